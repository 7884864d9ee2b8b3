using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.SequenceToSequence;
using Xunit;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// Bahdanau attention as a part others build on, beyond what the model's gradient checks see (they start every gradient
/// from zero, with small weights, one workspace): each parameter is drawn from its documented U(−1/√fan-in, 1/√fan-in);
/// the softmax survives scores whose e^x float cannot hold; the backward pass adds into the gradients it is given; an
/// inference workspace prepared between a training pass's steps and its finish leaves that pass alone; buffers grow
/// geometrically while steps are added, and a second pass allocates nothing.
/// </summary>
public sealed class BahdanauAttentionContractTests
{
    private const int H = 3, M = 4, S = 3, B = 2, T = 2;

    [Fact]
    public void Initialize_DrawsEachParameterSymmetricallyWithinOneOverTheRootOfItsFanIn()
    {
        var parameters = new ParameterSet();
        var attention = new BahdanauAttention(parameters, hiddenSize: 8, memoryWidth: 16);
        attention.Initialize(new Random(1));

        foreach (var (name, fanIn) in new[] { ("attention.query.weight", 8), ("attention.memory.weight", 16), ("attention.bias", 8), ("attention.v", 8) })
        {
            float[] values = parameters.ValuesOf(parameters[name]).ToArray();
            float bound = 1f / MathF.Sqrt(fanIn);
            Assert.All(values, w => Assert.InRange(w, -bound, bound));
            Assert.True(values.Min() < -bound / 3 && values.Max() > bound / 3, $"{name}: {values.Min()} … {values.Max()} should span ±{bound}");
        }
    }

    [Fact]
    public void ScoresFarBeyondTheExponentialsRange_GiveTheSoftmaxOfTheScores()
    {
        var (parameters, attention, memory, queries, lengths) = Setup();
        parameters.ValuesOf(parameters["attention.v"]).Fill(1000f); // float's e^x is ∞ above x ≈ 88.7 and 0 below about −104
        var workspace = new BahdanauAttention.Workspace();
        attention.Prepare(workspace, memory, S, B, lengths);
        float[] context = new float[B * M];
        attention.Forward(workspace, 0, queries, memory, context, M);

        float[] v = parameters.ValuesOf(parameters["attention.v"]).ToArray();
        for (int b = 0; b < B; b++)
        {
            int length = lengths[b];
            double[] scores = new double[length];
            for (int s = 0; s < length; s++)
                for (int a = 0; a < H; a++) scores[s] += v[a] * (double)workspace.Activations[(s * B + b) * H + a];
            double max = scores.Max(), sum = scores.Sum(e => Math.Exp(e - max));
            Assert.True(Math.Abs(max) > 105, $"row {b}'s largest score is {max}; the test needs one beyond float's e^x range");
            for (int s = 0; s < length; s++) Assert.Equal(Math.Exp(scores[s] - max) / sum, workspace.Weights[b * S + s], 1e-5);
            for (int s = length; s < S; s++) Assert.Equal(0f, workspace.Weights[b * S + s]);
        }
        Assert.All(context, c => Assert.True(float.IsFinite(c)));
    }

    [Fact]
    public void Backward_AddsIntoTheGradientsItIsGiven()
    {
        var (fromZero, fromZeroMemory) = TrainingPass(startAt: 0f, interleave: false);
        var (fromOnes, fromOnesMemory) = TrainingPass(startAt: 1f, interleave: false);

        for (int i = 0; i < fromZero.Length; i++) Assert.Equal(fromZero[i] + 1f, fromOnes[i], 1e-5f);
        for (int i = 0; i < fromZeroMemory.Length; i++) Assert.Equal(fromZeroMemory[i] + 1f, fromOnesMemory[i], 1e-5f);
        Assert.Contains(fromZero, g => MathF.Abs(g) > 1e-3f);
    }

    [Fact]
    public void AnInferenceWorkspacePreparedBeforeTheFinish_LeavesTheTrainingPassAlone()
    {
        var (alone, aloneMemory) = TrainingPass(startAt: 0f, interleave: false);
        var (interleaved, interleavedMemory) = TrainingPass(startAt: 0f, interleave: true);

        Assert.Equal(alone, interleaved);
        Assert.Equal(aloneMemory, interleavedMemory);
    }

    [Fact]
    public void StepsAddedOneByOne_GrowTheBuffersGeometrically_AndASecondPassAllocatesNothing()
    {
        const int Steps = 64;
        var (_, attention, memory, _, lengths) = Setup();
        var random = new Random(5);
        float[] queries = Enumerable.Range(0, B * H).Select(_ => (float)random.NextDouble()).ToArray();
        float[] context = new float[B * M], contextGradient = new float[B * M], queryGradient = new float[B * H], memoryGradient = new float[S * B * M];
        contextGradient.AsSpan().Fill(0.5f);

        // Another attention of the same shape first takes what a process allocates once (the products' packing
        // buffers, the runtime's first calls), so the first pass below counts only this attention's own buffers.
        var (_, warmUp, _, _, _) = Setup();
        warmUp.Prepare(warmUp.Own, memory, S, B, lengths);
        for (int t = 0; t < 2; t++) warmUp.Forward(warmUp.Own, t, queries, memory, context, M);
        for (int t = 1; t >= 0; t--) warmUp.Backward(t, memory, contextGradient, M, queryGradient, memoryGradient);
        warmUp.FinishBackward(memory, memoryGradient);

        long before = GC.GetAllocatedBytesForCurrentThread();
        Pass();
        long first = GC.GetAllocatedBytesForCurrentThread() - before;
        // The per-step buffers end at Steps·S·B·H (activations) and less; each byte once plus the doublings on the way.
        long finalBytes = sizeof(float) * (long)Steps * (S * B * H + B * H + B * S);
        Assert.True(first < 4 * finalBytes, $"a first pass of {Steps} steps allocated {first} bytes; its buffers hold {finalBytes}");

        Pass();
        before = GC.GetAllocatedBytesForCurrentThread();
        Pass();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Pass()
        {
            attention.Prepare(attention.Own, memory, S, B, lengths);
            for (int t = 0; t < Steps; t++) attention.Forward(attention.Own, t, queries, memory, context, M);
            for (int t = Steps - 1; t >= 0; t--) attention.Backward(t, memory, contextGradient, M, queryGradient, memoryGradient);
            attention.FinishBackward(memory, memoryGradient);
        }
    }

    private static (float[] Parameters, float[] Memory) TrainingPass(float startAt, bool interleave)
    {
        var (parameters, attention, memory, queries, lengths) = Setup();
        var random = new Random(6);
        float[] contextGradient = Enumerable.Range(0, B * M).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] context = new float[B * M], queryGradient = new float[B * H], memoryGradient = new float[S * B * M];
        attention.Prepare(attention.Own, memory, S, B, lengths);
        for (int t = 0; t < T; t++) attention.Forward(attention.Own, t, queries.AsSpan(t * B * H), memory, context, M);
        parameters.Gradients.Fill(startAt);
        memoryGradient.AsSpan().Fill(startAt);
        for (int t = T - 1; t >= 0; t--) attention.Backward(t, memory, contextGradient, M, queryGradient, memoryGradient);
        if (interleave)
        {
            float[] otherMemory = new float[5 * 1 * M];
            otherMemory.AsSpan().Fill(0.25f);
            attention.Prepare(new BahdanauAttention.Workspace(), otherMemory, 5, 1, [5]);
        }
        attention.FinishBackward(memory, memoryGradient);
        return (parameters.Gradients.ToArray(), memoryGradient);
    }

    private static (ParameterSet Parameters, BahdanauAttention Attention, float[] Memory, float[] Queries, int[] Lengths) Setup()
    {
        var parameters = new ParameterSet();
        var attention = new BahdanauAttention(parameters, H, M);
        attention.Initialize(new Random(3));
        var random = new Random(4);
        float[] Draw(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        return (parameters, attention, Draw(S * B * M), Draw(T * B * H), [S, S - 1]);
    }
}
