using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.SequenceToSequence;
using Xunit;

namespace MlNet.Rnn.Core.Tests.SequenceToSequence;

/// <summary>
/// Luong attention as a part others build on, beyond what the model's gradient checks see (they start every gradient
/// from zero): <c>W_a</c> is drawn from U(−1/√(D·H), 1/√(D·H)); <c>Backward</c> adds into the parameter gradients and the
/// memory gradient it is given, as documented, rather than overwriting them; a second pass of the same shape allocates
/// nothing.
/// </summary>
public sealed class LuongAttentionContractTests
{
    private const int H = 3, M = 4, S = 3, B = 2, T = 2;

    [Fact]
    public void Initialize_DrawsTheScoreWeightSymmetricallyWithinOneOverTheRootOfTheMemoryWidth()
    {
        var parameters = new ParameterSet();
        var attention = new LuongAttention(parameters, hiddenSize: 8, memoryWidth: 16);
        attention.Initialize(new Random(1));

        float[] weight = parameters.ValuesOf(parameters["attention.weight"]).ToArray();
        float bound = 1f / MathF.Sqrt(16);
        Assert.All(weight, w => Assert.InRange(w, -bound, bound));
        Assert.True(weight.Min() < -bound / 2 && weight.Max() > bound / 2, $"{weight.Min()} … {weight.Max()} should span ±{bound}");
    }

    [Fact]
    public void Backward_AddsIntoTheGradientsItIsGiven()
    {
        var (fromZero, fromZeroMemory) = Backward(startAt: 0f);
        var (fromOnes, fromOnesMemory) = Backward(startAt: 1f);

        Assert.Equal(fromZero.Length, fromOnes.Length);
        for (int i = 0; i < fromZero.Length; i++) Assert.Equal(fromZero[i] + 1f, fromOnes[i], 1e-5f);
        for (int i = 0; i < fromZeroMemory.Length; i++) Assert.Equal(fromZeroMemory[i] + 1f, fromOnesMemory[i], 1e-5f);
        Assert.Contains(fromZeroMemory, g => MathF.Abs(g) > 1e-3f);
        Assert.Contains(fromZero, g => MathF.Abs(g) > 1e-3f);
    }

    [Fact]
    public void ASecondPassOfTheSameShape_AllocatesNothing()
    {
        var (_, attention, memory, queries, lengths, outputGradient) = Setup();
        float[] output = new float[T * B * H], queryGradient = new float[T * B * H], memoryGradient = new float[S * B * M];
        for (int pass = 0; pass < 2; pass++) Pass();

        long before = GC.GetAllocatedBytesForCurrentThread();
        Pass();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Pass()
        {
            attention.Prepare(attention.Own, memory, S, B, lengths);
            attention.Attend(attention.Own, memory, queries, T, output);
            attention.Backward(memory, outputGradient, queryGradient, memoryGradient);
        }
    }

    private static (float[] Parameters, float[] Memory) Backward(float startAt)
    {
        var (parameters, attention, memory, queries, lengths, outputGradient) = Setup();
        float[] output = new float[T * B * H], queryGradient = new float[T * B * H], memoryGradient = new float[S * B * M];
        attention.Prepare(attention.Own, memory, S, B, lengths);
        attention.Attend(attention.Own, memory, queries, T, output);
        parameters.Gradients.Fill(startAt);
        memoryGradient.AsSpan().Fill(startAt);
        attention.Backward(memory, outputGradient, queryGradient, memoryGradient);
        return (parameters.Gradients.ToArray(), memoryGradient);
    }

    private static (ParameterSet Parameters, LuongAttention Attention, float[] Memory, float[] Queries, int[] Lengths, float[] OutputGradient) Setup()
    {
        var parameters = new ParameterSet();
        var attention = new LuongAttention(parameters, H, M);
        attention.Initialize(new Random(3));
        var random = new Random(4);
        float[] Draw(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        return (parameters, attention, Draw(S * B * M), Draw(T * B * H), [S, S - 1], Draw(T * B * H));
    }
}
