using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// The log-likelihood <c>Σ ln p(s[i+1] | s[0..i])</c> of an id sequence s, read as B streams (<see cref="TokenStreams"/>) in
/// chunks with the state carried. With one stream every id is conditioned on everything before it; with B &gt; 1, stream b
/// starts from the initial state at pair b·L, a little worse than the exact score but B times fewer sequential steps.
/// </summary>
internal static class LikelihoodScorer
{
    /// <summary>Chunk length of scoring; the state is carried, so it changes speed only.</summary>
    public const int ChunkSteps = 256;

    public static LanguageModelMetrics Score(StreamingLogits logits, ITokenSource sequence, int streams, Vocabulary vocabulary)
    {
        int V = vocabulary.Count;
        var reader = new TokenStreams(sequence, 0, streams, vocabulary.StartId);
        int B = reader.Streams, capacity = (int)Math.Min(ChunkSteps, reader.StreamLength) * B;
        var inputs = new int[capacity];
        var targets = new int[capacity];
        var weights = new float[capacity];
        var scratch = new float[V];
        logits.Reset(B);
        double negativeLogLikelihood = 0, count = 0;
        for (long step = 0; step < reader.StreamLength; step += ChunkSteps)
        {
            int steps = (int)Math.Min(ChunkSteps, reader.StreamLength - step), rows = steps * B;
            reader.Fill(step, steps, inputs, targets, weights);
            ReadOnlySpan<float> z = logits.Forward(inputs.AsSpan(0, rows), steps, training: false);
            var (loss, weight) = NextTokenLoss.Compute(z, targets.AsSpan(0, rows), weights.AsSpan(0, rows), V, default, scratch);
            negativeLogLikelihood += loss;
            count += weight;
        }
        return new LanguageModelMetrics(-negativeLogLikelihood, (long)count);
    }
}
