using System.Numerics.Tensors;
using MlNet.Rnn.Core.Kernels;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// Luong's global attention, "general" score, over a batch of decoder outputs at once:
/// <c>k_s = W_a m_s</c> <c>[S, B, H]</c>; <c>score_ts = h_t · k_s</c>; <c>a_t = softmax over s &lt; len_b</c> (padded source
/// steps get weight 0); <c>c_t = Σ_s a_ts m_s</c> <c>[T, B, D·H]</c>; <c>h̃_t = tanh(W_c [c_t; h_t] + b_c)</c> <c>[T, B, H]</c>.
/// Memory m <c>[S, B, D·H]</c> is the encoder's output, queries h <c>[T, B, H]</c> the decoder's.
/// Parameters: <c>attention.weight</c> W_a <c>[H, D·H]</c> (no bias: it would add the same amount to every score),
/// <c>attention.combine.weight</c> W_c <c>[H, D·H + H]</c>, <c>attention.combine.bias</c> b_c <c>[H]</c>.
/// What a pass writes lives in a <see cref="Workspace"/>: the attention's own one for training, another per caller for inference.
/// </summary>
internal sealed class LuongAttention
{
    private readonly ParameterSet _parameters;
    private readonly ParameterTensor _scoreWeight;
    private readonly Dense _combine;
    private readonly int _hidden, _memoryWidth;
    private readonly Workspace _own = new();
    private float[] _keyGradient = [], _weightGradient = [], _preActivationGradient = [], _concatenatedGradient = [];

    public LuongAttention(ParameterSet parameters, int hiddenSize, int memoryWidth)
    {
        _parameters = parameters;
        _hidden = hiddenSize;
        _memoryWidth = memoryWidth;
        _scoreWeight = parameters.Add("attention.weight", hiddenSize, memoryWidth);
        _combine = new Dense(parameters, "attention.combine", memoryWidth + hiddenSize, hiddenSize, OutputActivation.Identity);
    }

    /// <summary>W_a ~ U(−1/√(D·H), 1/√(D·H)), as <c>nn.Linear</c>; W_c and b_c as <see cref="Dense.Initialize"/>.</summary>
    public void Initialize(Random random)
    {
        float bound = 1f / MathF.Sqrt(_memoryWidth);
        Span<float> values = _parameters.ValuesOf(_scoreWeight);
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * bound;
        _combine.Initialize(random);
    }

    /// <summary>The attention's own workspace, for training (<see cref="Backward"/> reads it).</summary>
    public Workspace Own => _own;

    /// <summary>Computes the keys <c>k = m W_aᵀ</c> <c>[S, B, H]</c> of a memory, kept for every <see cref="Attend"/> that follows.</summary>
    public void Prepare(Workspace workspace, ReadOnlySpan<float> memory, int sourceSteps, int batch, ReadOnlySpan<int> sourceLengths)
    {
        int H = _hidden, M = _memoryWidth, rows = sourceSteps * batch;
        workspace.SourceSteps = sourceSteps;
        workspace.Batch = batch;
        Grow(ref workspace.Keys, rows * H);
        Grow(ref workspace.Lengths, batch);
        sourceLengths.CopyTo(workspace.Lengths);
        Gemm.Multiply(rows, H, M, memory, M, false, _parameters.ReadOnlyValuesOf(_scoreWeight), M, true, workspace.Keys, H, accumulate: false);
    }

    /// <summary>Writes h̃ <c>[T, B, H]</c> for queries <c>[T, B, H]</c> over the memory given to <see cref="Prepare"/>.</summary>
    public void Attend(Workspace workspace, ReadOnlySpan<float> memory, ReadOnlySpan<float> queries, int targetSteps, Span<float> output)
    {
        int S = workspace.SourceSteps, B = workspace.Batch, T = targetSteps, H = _hidden, M = _memoryWidth, C = M + H;
        workspace.TargetSteps = T;
        Grow(ref workspace.Weights, B * T * S);
        Grow(ref workspace.Concatenated, T * B * C);
        Grow(ref workspace.Output, T * B * H);
        Span<float> concatenated = workspace.Concatenated.AsSpan(0, T * B * C);
        for (int b = 0; b < B; b++)
        {
            Span<float> weights = workspace.Weights.AsSpan(b * T * S, T * S);
            // score_b [T, S] = Q_b [T, H] · K_bᵀ; rows of batch item b lie B·H apart.
            Gemm.Multiply(T, S, H, queries[(b * H)..], B * H, false, workspace.Keys.AsSpan(b * H), B * H, true, weights, S, accumulate: false);
            int length = workspace.Lengths[b];
            for (int t = 0; t < T; t++)
            {
                Span<float> row = weights.Slice(t * S, S);
                // TensorPrimitives.SoftMax does not subtract the maximum, so scores above ~88 would overflow to NaN.
                TensorPrimitives.Subtract(row[..length], Reductions.Max(row[..length]), row[..length]);
                Reductions.SoftMax(row[..length], row[..length]);
                row[length..].Clear();
            }
            // c_b [T, D·H] = A_b [T, S] · M_b [S, D·H], written into the first D·H columns of [c; h].
            Gemm.Multiply(T, M, S, weights, S, false, memory[(b * M)..], B * M, false, concatenated[(b * C)..], B * C, accumulate: false);
        }
        for (int r = 0; r < T * B; r++) queries.Slice(r * H, H).CopyTo(concatenated.Slice(r * C + M, H));
        _combine.Forward(concatenated, T * B, output);
        TensorPrimitives.Tanh(output[..(T * B * H)], output[..(T * B * H)]);
        output[..(T * B * H)].CopyTo(workspace.Output);
    }

    /// <summary>
    /// Backpropagates the last <see cref="Prepare"/> + <see cref="Attend"/>: from dL/dh̃ <c>[T, B, H]</c>, adds into the
    /// parameter gradients, writes dL/dh <c>[T, B, H]</c> and adds dL/dm into <paramref name="memoryGradient"/> <c>[S, B, D·H]</c>.
    /// </summary>
    public void Backward(ReadOnlySpan<float> memory, ReadOnlySpan<float> outputGradient, Span<float> queryGradient, Span<float> memoryGradient)
    {
        var own = _own;
        int S = own.SourceSteps, B = own.Batch, T = own.TargetSteps, H = _hidden, M = _memoryWidth, C = M + H, rows = T * B;
        Grow(ref _preActivationGradient, rows * H);
        Grow(ref _concatenatedGradient, rows * C);
        Grow(ref _weightGradient, T * S);
        Grow(ref _keyGradient, S * B * H);
        // dz = dh̃ ⊙ (1 − h̃²)
        Span<float> dz = _preActivationGradient.AsSpan(0, rows * H);
        ReadOnlySpan<float> y = own.Output.AsSpan(0, rows * H);
        TensorPrimitives.Multiply(y, y, dz);
        TensorPrimitives.Negate(dz, dz);
        TensorPrimitives.Add(dz, 1f, dz);
        TensorPrimitives.Multiply(dz, outputGradient[..(rows * H)], dz);
        Span<float> dConcatenated = _concatenatedGradient.AsSpan(0, rows * C);
        _combine.Backward(own.Concatenated.AsSpan(0, rows * C), y, dz, rows, dConcatenated);
        for (int r = 0; r < rows; r++) dConcatenated.Slice(r * C + M, H).CopyTo(queryGradient.Slice(r * H, H));

        ReadOnlySpan<float> queries = own.Concatenated.AsSpan(M);
        Span<float> dKeys = _keyGradient.AsSpan(0, S * B * H);
        for (int b = 0; b < B; b++)
        {
            ReadOnlySpan<float> weights = own.Weights.AsSpan(b * T * S, T * S);
            Span<float> dWeights = _weightGradient.AsSpan(0, T * S);
            // dA_b = dC_b [T, D·H] · M_bᵀ;  dM_b += A_bᵀ · dC_b
            Gemm.Multiply(T, S, M, dConcatenated[(b * C)..], B * C, false, memory[(b * M)..], B * M, true, dWeights, S, accumulate: false);
            Gemm.Multiply(S, M, T, weights, S, true, dConcatenated[(b * C)..], B * C, false, memoryGradient[(b * M)..], B * M, accumulate: true);
            // Softmax backward: dscore = a ⊙ (da − ⟨da, a⟩), row by row (masked steps have a = 0 and stay 0).
            for (int t = 0; t < T; t++)
            {
                ReadOnlySpan<float> a = weights.Slice(t * S, S);
                Span<float> da = dWeights.Slice(t * S, S);
                float dot = Reductions.Dot(a, da);
                TensorPrimitives.Subtract(da, dot, da);
                TensorPrimitives.Multiply(da, a, da);
            }
            // dQ_b += dscore [T, S] · K_b;  dK_b = dscoreᵀ · Q_b
            Gemm.Multiply(T, H, S, dWeights, S, false, own.Keys.AsSpan(b * H), B * H, false, queryGradient[(b * H)..], B * H, accumulate: true);
            Gemm.Multiply(S, H, T, dWeights, S, true, queries[(b * C)..], B * C, false, dKeys[(b * H)..], B * H, accumulate: false);
        }
        // k = m W_aᵀ:  dW_a += dkᵀ [H, S·B] · m [S·B, D·H];  dm += dk · W_a
        Gemm.Multiply(H, M, S * B, dKeys, H, true, memory, M, false, _parameters.GradientsOf(_scoreWeight), M, accumulate: true);
        Gemm.Multiply(S * B, M, H, dKeys, H, false, _parameters.ReadOnlyValuesOf(_scoreWeight), M, false, memoryGradient, M, accumulate: true);
    }

    /// <summary>What one pass writes: the keys <c>[S, B, H]</c>, the attention weights <c>[B, T, S]</c>, <c>[c; h]</c> and h̃.</summary>
    internal sealed class Workspace
    {
        public float[] Keys = [], Weights = [], Concatenated = [], Output = [];
        public int[] Lengths = [];
        public int SourceSteps, Batch, TargetSteps;
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }
}
