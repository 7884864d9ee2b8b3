namespace MlNet.Rnn.Core.Layers;

/// <summary>
/// Called once per chunk of truncated BPTT: <paramref name="output"/> is the chunk's output <c>[k, B, D·H]</c> for steps
/// <c>firstStep .. firstStep + k − 1</c> (zeros where a sequence has ended); write dL/d(output) into
/// <paramref name="outputGradient"/> (cleared beforehand).
/// </summary>
public delegate void TruncatedChunkGradient(int firstStep, int steps, ReadOnlySpan<float> output, Span<float> outputGradient);
