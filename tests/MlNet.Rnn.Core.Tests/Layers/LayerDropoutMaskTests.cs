using MlNet.Rnn.Core.Cells;
using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Tests.Reference;

namespace MlNet.Rnn.Core.Tests.Layers;

/// <summary>
/// The dropout masks a training pass draws and reports (<see cref="RecurrentNetwork{TCell}.CopyDropoutMasks"/>): every
/// entry exactly 0 or 1/keep, about keep of them kept; the masks come from the seed's stream in a fixed order, and a kind
/// of dropout with p = 0, or an inference pass, draws nothing from it; without dropout, or after inference, the reported
/// masks are all ones, and the top layer has no output mask. Truncated BPTT calls back once per chunk that still has a
/// live sequence, with a cleared gradient buffer, then <c>afterChunk</c>.
/// </summary>
public sealed class LayerDropoutMaskTests
{
    private const int T = 5, I = 2;

    private static RecurrentNetwork<GruCell> Gru(int B, int H, float dropout, float recurrentDropout, int layers = 2, bool bidirectional = true) =>
        new(new RecurrentNetworkOptions
        {
            InputSize = I, HiddenSize = H, Layers = layers, Bidirectional = bidirectional, Dropout = dropout, RecurrentDropout = recurrentDropout,
            Seed = 17, MaxDegreeOfParallelism = 1,
        });

    [Theory]
    [InlineData(0.3f)]
    [InlineData(0.6f)]
    public void RecurrentMask_IsZeroOrOneOverKeep_KeepingAboutKeepOfTheUnits(float p)
    {
        const int B = 50, H = 40;
        var network = Gru(B, H, 0f, p, layers: 1);
        network.Initialize(new Random(1));
        network.Forward(NetworkFactory.RandomFloats(new Random(2), T * B * I), B, [], new float[T * B * 2 * H], training: true);
        var mask = new float[2 * B * H];
        network.CopyDropoutMasks(0, mask, default);
        float keep = 1f - p, scale = 1f / keep;
        Assert.All(mask, m => Assert.True(m == 0f || m == scale, $"mask entry {m}, expected 0 or {scale}"));
        double kept = mask.Count(m => m != 0f) / (double)mask.Length;
        // 4000 entries: standard error of the kept fraction ≤ 0.008.
        Assert.True(Math.Abs(kept - keep) < 0.04, $"kept {kept} of the units, expected {keep}.");
    }

    /// <summary>The masks the seed's stream gives when drawn in order: layer by layer, the recurrent mask [D, B, H] (sorted order) then the output mask [N, D·H] (packed).</summary>
    private static (float[] Recurrent, float[] Output)[] ExpectedMasks(RecurrentNetwork<GruCell> network, int steps)
    {
        var options = network.Options;
        var layout = network.Layout;
        int B = layout.BatchSize, H = options.HiddenSize, D = options.Bidirectional ? 2 : 1, N = layout.TotalRows;
        var random = new Random(options.Seed);
        var result = new (float[], float[])[options.Layers];
        for (int l = 0; l < options.Layers; l++)
        {
            var recurrent = Enumerable.Repeat(1f, D * B * H).ToArray();
            if (options.RecurrentDropout > 0f)
            {
                float keep = 1f - options.RecurrentDropout;
                var sorted = new float[D * B * H];
                for (int i = 0; i < sorted.Length; i++) sorted[i] = random.NextSingle() < keep ? 1f / keep : 0f;
                for (int d = 0; d < D; d++) layout.Unsort(sorted.AsSpan(d * B * H, B * H), H, recurrent.AsSpan(d * B * H, B * H));
            }
            var output = new float[l + 1 < options.Layers ? steps * B * D * H : 0];
            if (output.Length > 0)
            {
                if (options.Dropout > 0f)
                {
                    float keep = 1f - options.Dropout;
                    var packed = new float[N * D * H];
                    for (int i = 0; i < packed.Length; i++) packed[i] = random.NextSingle() < keep ? 1f / keep : 0f;
                    layout.Unpack(packed, D * H, output, steps);
                }
                else
                {
                    Array.Fill(output, 1f);
                }
            }
            result[l] = (recurrent, output);
        }
        return result;
    }

    [Theory]
    [InlineData(0.5f, 0.3f)]
    [InlineData(0.5f, 0f)]
    [InlineData(0f, 0.4f)]
    [InlineData(0f, 0f)]
    public void Masks_FollowTheSeedsStream_AndADropoutOfZeroOrAnInferencePassDrawsNothing(float dropout, float recurrentDropout)
    {
        const int B = 4, H = 6;
        int[] lengths = [5, 2, 4, 1];
        var network = Gru(B, H, dropout, recurrentDropout);
        network.Initialize(new Random(1));
        float[] x = NetworkFactory.RandomFloats(new Random(2), T * B * I);
        var output = new float[T * B * 2 * H];
        // Inference first: it must leave the stream where it was.
        network.Forward(x, B, lengths, output);
        network.Forward(x, B, lengths, output, training: true);
        var expected = ExpectedMasks(network, T);
        for (int l = 0; l < 2; l++)
        {
            var recurrent = Enumerable.Repeat(float.NaN, 2 * B * H).ToArray();
            var outputMask = Enumerable.Repeat(float.NaN, T * B * 2 * H).ToArray();
            network.CopyDropoutMasks(l, recurrent, outputMask);
            Assert.Equal(expected[l].Recurrent, recurrent);
            if (l == 0) Assert.Equal(expected[l].Output, outputMask);
            // The top layer has no output mask: the caller's buffer is left as it was.
            else Assert.All(outputMask, m => Assert.True(float.IsNaN(m)));
        }
    }

    [Fact]
    public void AfterInference_ReportedMasksAreAllOnes()
    {
        const int B = 4, H = 6;
        var network = Gru(B, H, 0.5f, 0.5f);
        network.Initialize(new Random(1));
        float[] x = NetworkFactory.RandomFloats(new Random(2), T * B * I);
        network.Forward(x, B, [5, 2, 4, 1], new float[T * B * 2 * H], training: true);
        network.Forward(x, B, [5, 2, 4, 1], new float[T * B * 2 * H]);
        var recurrent = Enumerable.Repeat(float.NaN, 2 * B * H).ToArray();
        var outputMask = Enumerable.Repeat(float.NaN, T * B * 2 * H).ToArray();
        network.CopyDropoutMasks(0, recurrent, outputMask);
        Assert.All(recurrent, m => Assert.Equal(1f, m));
        Assert.All(outputMask, m => Assert.Equal(1f, m));
    }

    // ---- Truncated BPTT: the chunk loop ----

    [Theory]
    [InlineData(new int[0], 2, new[] { 0, 2, 4, 6 })]          // all of T = 7: chunks at 0, 2, 4, 6 (the last one step)
    [InlineData(new[] { 3, 2, 1 }, 2, new[] { 0, 2 })]         // every sequence has ended after step 3: no chunk at 4 or 6
    [InlineData(new[] { 5, 7, 1 }, 3, new[] { 0, 3, 6 })]      // a length ending inside a chunk
    [InlineData(new[] { 4, 4, 4 }, 4, new[] { 0 })]            // ends exactly at a chunk boundary
    public void Truncated_CallsBackOncePerLiveChunk_WithAClearedGradient_ThenAfterChunk(int[] lengths, int chunkSteps, int[] firstSteps)
    {
        const int steps = 7, B = 3, H = 4;
        var network = new RecurrentNetwork<LstmCell>(new RecurrentNetworkOptions { InputSize = I, HiddenSize = H, MaxDegreeOfParallelism = 1 });
        network.Initialize(new Random(1));
        float[] x = NetworkFactory.RandomFloats(new Random(2), steps * B * I);
        var fullOutput = new float[steps * B * H];
        network.Forward(x, B, lengths, fullOutput);
        var events = new List<string>();
        var seen = new float[steps * B * H];
        network.Parameters.ZeroGradients();
        network.BackpropagateTruncated(x, B, lengths, chunkSteps, (first, count, output, gradient) =>
        {
            events.Add($"chunk {first}+{count}");
            Assert.Equal(count * B * H, gradient.Length);
            Assert.True(gradient.IndexOfAnyExcept(0f) < 0, $"The gradient buffer of the chunk at {first} was not cleared.");
            output.CopyTo(seen.AsSpan(first * B * H));
            gradient.Fill(1f);
        }, chunk => events.Add($"after {chunk}"));

        var expected = new List<string>();
        for (int c = 0; c < firstSteps.Length; c++)
        {
            expected.Add($"chunk {firstSteps[c]}+{Math.Min(chunkSteps, steps - firstSteps[c])}");
            expected.Add($"after {c}");
        }
        Assert.Equal(expected, events);
        // The chunks' outputs are the untruncated forward's (zeros after each sequence's end).
        Assert.Equal(fullOutput, seen);
        Assert.Contains(network.Parameters.Gradients.ToArray(), g => g != 0f);
    }
}
