using System.Numerics.Tensors;
using MlNet.Rnn.Core.Kernels;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.SequenceToSequence;

/// <summary>
/// Bahdanau's additive attention, one decoder step at a time: with the decoder's previous top-layer state q <c>[B, H]</c>,
/// <c>k_s = W_m m_s + b_a</c> <c>[S, B, A]</c> (once per batch), <c>u_s = tanh(k_s + W_q q)</c>, <c>e_s = vᵀ u_s</c>,
/// <c>a = softmax over s &lt; len_b</c>, <c>c = Σ_s a_s m_s</c> <c>[B, D·H]</c>, which joins the decoder's input. A = H.
/// Every step's q, u and a are kept (slot t) so <see cref="Backward"/> can run the steps in reverse.
/// Parameters: <c>attention.query.weight</c> W_q <c>[A, H]</c>, <c>attention.memory.weight</c> W_m <c>[A, D·H]</c>,
/// <c>attention.bias</c> b_a <c>[A]</c>, <c>attention.v</c> v <c>[A]</c>.
/// What a pass writes lives in a <see cref="Workspace"/>: the attention's own one for training, another per caller for inference.
/// </summary>
internal sealed class BahdanauAttention
{
    private readonly ParameterSet _parameters;
    private readonly ParameterTensor _queryWeight, _memoryWeight, _bias, _v;
    private readonly int _hidden, _memoryWidth, _attention;
    private readonly Workspace _own = new();
    private float[] _keyGradient = [], _scoreGradient = [], _activationGradient = [], _projectedGradient = [];

    public BahdanauAttention(ParameterSet parameters, int hiddenSize, int memoryWidth)
    {
        _parameters = parameters;
        _hidden = hiddenSize;
        _memoryWidth = memoryWidth;
        _attention = hiddenSize;
        _queryWeight = parameters.Add("attention.query.weight", _attention, hiddenSize);
        _memoryWeight = parameters.Add("attention.memory.weight", _attention, memoryWidth);
        _bias = parameters.Add("attention.bias", _attention);
        _v = parameters.Add("attention.v", _attention);
    }

    /// <summary>W_q, b_a ~ U(−1/√H, 1/√H); W_m ~ U(−1/√(D·H), 1/√(D·H)); v ~ U(−1/√A, 1/√A), as <c>nn.Linear</c>.</summary>
    public void Initialize(Random random)
    {
        Fill(_parameters.ValuesOf(_queryWeight), random, 1f / MathF.Sqrt(_hidden));
        Fill(_parameters.ValuesOf(_memoryWeight), random, 1f / MathF.Sqrt(_memoryWidth));
        Fill(_parameters.ValuesOf(_bias), random, 1f / MathF.Sqrt(_hidden));
        Fill(_parameters.ValuesOf(_v), random, 1f / MathF.Sqrt(_attention));
    }

    /// <summary>The attention's own workspace, for training (<see cref="Backward"/> reads it).</summary>
    public Workspace Own => _own;

    /// <summary>Computes the keys <c>k = m W_mᵀ + b_a</c> <c>[S, B, A]</c>; in the own workspace also clears the key gradient.</summary>
    public void Prepare(Workspace workspace, ReadOnlySpan<float> memory, int sourceSteps, int batch, ReadOnlySpan<int> sourceLengths)
    {
        int A = _attention, M = _memoryWidth, rows = sourceSteps * batch;
        workspace.SourceSteps = sourceSteps;
        workspace.Batch = batch;
        Grow(ref workspace.Keys, rows * A);
        Grow(ref workspace.Lengths, batch);
        sourceLengths.CopyTo(workspace.Lengths);
        ReadOnlySpan<float> bias = _parameters.ReadOnlyValuesOf(_bias);
        for (int r = 0; r < rows; r++) bias.CopyTo(workspace.Keys.AsSpan(r * A, A));
        Gemm.Multiply(rows, A, M, memory, M, false, _parameters.ReadOnlyValuesOf(_memoryWeight), M, true, workspace.Keys, A, accumulate: true);
        if (!ReferenceEquals(workspace, _own)) return;
        Grow(ref _keyGradient, rows * A);
        _keyGradient.AsSpan(0, rows * A).Clear();
    }

    /// <summary>Step <paramref name="step"/>: the context <c>[B, D·H]</c> (rows <paramref name="contextStride"/> apart) for queries <c>[B, H]</c>.</summary>
    public void Forward(Workspace workspace, int step, ReadOnlySpan<float> queries, ReadOnlySpan<float> memory, Span<float> context, int contextStride)
    {
        int S = workspace.SourceSteps, B = workspace.Batch, A = _attention, H = _hidden, M = _memoryWidth;
        Grow(ref workspace.Queries, (step + 1) * B * H);
        Grow(ref workspace.Projected, B * A);
        Grow(ref workspace.Activations, (step + 1) * S * B * A);
        Grow(ref workspace.Weights, (step + 1) * B * S);
        queries[..(B * H)].CopyTo(workspace.Queries.AsSpan(step * B * H));
        Span<float> projected = workspace.Projected.AsSpan(0, B * A);
        Gemm.Multiply(B, A, H, queries, H, false, _parameters.ReadOnlyValuesOf(_queryWeight), H, true, projected, A, accumulate: false);
        ReadOnlySpan<float> v = _parameters.ReadOnlyValuesOf(_v);
        for (int b = 0; b < B; b++)
        {
            int length = workspace.Lengths[b];
            Span<float> weights = workspace.Weights.AsSpan((step * B + b) * S, S);
            for (int s = 0; s < length; s++)
            {
                Span<float> u = workspace.Activations.AsSpan(((step * S + s) * B + b) * A, A);
                TensorPrimitives.Add(workspace.Keys.AsSpan((s * B + b) * A, A), projected.Slice(b * A, A), u);
                TensorPrimitives.Tanh(u, u);
                weights[s] = Reductions.Dot(v, u);
            }
            // TensorPrimitives.SoftMax does not subtract the maximum; scores are shifted first so none overflows.
            TensorPrimitives.Subtract(weights[..length], Reductions.Max(weights[..length]), weights[..length]);
            Reductions.SoftMax(weights[..length], weights[..length]);
            weights[length..].Clear();
            Span<float> c = context.Slice(b * contextStride, M);
            c.Clear();
            for (int s = 0; s < length; s++) TensorPrimitives.MultiplyAdd(memory.Slice((s * B + b) * M, M), weights[s], c, c);
        }
    }

    /// <summary>
    /// Backpropagates step <paramref name="step"/> from dL/dc <c>[B, D·H]</c> (rows <paramref name="contextStride"/> apart):
    /// writes dL/dq <c>[B, H]</c>, adds dL/dm into <paramref name="memoryGradient"/> and into the parameter gradients;
    /// the key gradient is kept until <see cref="FinishBackward"/>.
    /// </summary>
    public void Backward(int step, ReadOnlySpan<float> memory, ReadOnlySpan<float> contextGradient, int contextStride, Span<float> queryGradient,
        Span<float> memoryGradient)
    {
        var own = _own;
        int S = own.SourceSteps, B = own.Batch, A = _attention, H = _hidden, M = _memoryWidth;
        Grow(ref _scoreGradient, S);
        Grow(ref _activationGradient, A);
        Grow(ref _projectedGradient, B * A);
        Span<float> dProjected = _projectedGradient.AsSpan(0, B * A);
        dProjected.Clear();
        ReadOnlySpan<float> v = _parameters.ReadOnlyValuesOf(_v);
        Span<float> dV = _parameters.GradientsOf(_v);
        for (int b = 0; b < B; b++)
        {
            int length = own.Lengths[b];
            ReadOnlySpan<float> weights = own.Weights.AsSpan((step * B + b) * S, S), dc = contextGradient.Slice(b * contextStride, M);
            Span<float> dScore = _scoreGradient.AsSpan(0, length);
            // c = Σ a_s m_s: da_s = dc · m_s, dm_s += a_s dc.
            for (int s = 0; s < length; s++)
            {
                dScore[s] = Reductions.Dot(dc, memory.Slice((s * B + b) * M, M));
                Span<float> dm = memoryGradient.Slice((s * B + b) * M, M);
                TensorPrimitives.MultiplyAdd(dc, weights[s], dm, dm);
            }
            // Softmax: de = a ⊙ (da − ⟨da, a⟩).
            float dot = Reductions.Dot(dScore, weights[..length]);
            TensorPrimitives.Subtract(dScore, dot, dScore);
            TensorPrimitives.Multiply(dScore, weights[..length], dScore);
            for (int s = 0; s < length; s++)
            {
                // e = vᵀu: dv += de·u; du = de·v ⊙ (1 − u²), which is dk_s and a share of d(W_q q).
                ReadOnlySpan<float> u = own.Activations.AsSpan(((step * S + s) * B + b) * A, A);
                float de = dScore[s];
                TensorPrimitives.MultiplyAdd(u, de, dV, dV);
                Span<float> du = _activationGradient.AsSpan(0, A);
                TensorPrimitives.Multiply(u, u, du);
                TensorPrimitives.Negate(du, du);
                TensorPrimitives.Add(du, 1f, du);
                TensorPrimitives.Multiply(du, v, du);
                TensorPrimitives.Multiply(du, de, du);
                Span<float> dk = _keyGradient.AsSpan((s * B + b) * A, A), dp = dProjected.Slice(b * A, A);
                TensorPrimitives.Add(dk, du, dk);
                TensorPrimitives.Add(dp, du, dp);
            }
        }
        // W_q q: dW_q += dpᵀ q; dq = dp W_q.
        ReadOnlySpan<float> queries = own.Queries.AsSpan(step * B * H, B * H);
        Gemm.Multiply(A, H, B, dProjected, A, true, queries, H, false, _parameters.GradientsOf(_queryWeight), H, accumulate: true);
        Gemm.Multiply(B, H, A, dProjected, A, false, _parameters.ReadOnlyValuesOf(_queryWeight), H, false, queryGradient, H, accumulate: false);
    }

    /// <summary>After every step's <see cref="Backward"/>: k = m W_mᵀ + b_a, so dW_m += dkᵀ m, db_a += Σ dk, dm += dk W_m.</summary>
    public void FinishBackward(ReadOnlySpan<float> memory, Span<float> memoryGradient)
    {
        int A = _attention, M = _memoryWidth, rows = _own.SourceSteps * _own.Batch;
        ReadOnlySpan<float> dKeys = _keyGradient.AsSpan(0, rows * A);
        Gemm.Multiply(A, M, rows, dKeys, A, true, memory, M, false, _parameters.GradientsOf(_memoryWeight), M, accumulate: true);
        Span<float> dBias = _parameters.GradientsOf(_bias);
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(dBias, dKeys.Slice(r * A, A), dBias);
        Gemm.Multiply(rows, M, A, dKeys, A, false, _parameters.ReadOnlyValuesOf(_memoryWeight), M, false, memoryGradient, M, accumulate: true);
    }

    /// <summary>What a pass writes: the keys <c>[S, B, A]</c>, and per step the queries, activations u and weights a backward reads.</summary>
    internal sealed class Workspace
    {
        public float[] Keys = [], Queries = [], Projected = [], Activations = [], Weights = [];
        public int[] Lengths = [];
        public int SourceSteps, Batch;
    }

    private static void Fill(Span<float> values, Random random, float bound)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * bound;
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            var grown = new T[Math.Max(length, buffer.Length * 2)];
            buffer.CopyTo(grown, 0);
            buffer = grown;
        }
    }
}
