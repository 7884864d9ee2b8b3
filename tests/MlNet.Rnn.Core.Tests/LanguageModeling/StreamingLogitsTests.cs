using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Core.Tests.LanguageModeling;

/// <summary>
/// The head's dropout in <see cref="StreamingLogits"/>: each training chunk's mask <c>[k, B, H]</c> is drawn, entry after entry,
/// from the seed given to <see cref="StreamingLogits.ReseedDropout"/>, keeping a unit (scaled by 1/keep) when its draw is below
/// keep = 1 − p and dropping it otherwise (a draw equal to keep drops); no mask is reported without dropout or after an
/// inference chunk; a backward pass after an inference chunk is refused before any gradient is added.
/// </summary>
public sealed class StreamingLogitsTests
{
    private static readonly Vocabulary s_vocabulary = Vocabulary.FromCharacters("abcd");

    private static SequenceModel Model(float dropout) =>
        new(LanguageModel.DefaultOptions(s_vocabulary) with { EmbeddingSize = 3, HiddenSize = 4, Dropout = dropout, Seed = 1, MaxDegreeOfParallelism = 1 });

    [Fact]
    public void TheHeadMask_IsDrawnFromTheGivenSeed_KeepingAUnitWhoseDrawIsBelowKeep()
    {
        // A seed whose first draw v is at least ½, and p = 1 − v, so that keep = 1 − p is exactly v: the first unit drops.
        int seed = Enumerable.Range(1, 100).First(s => new Random(s).NextSingle() is >= 0.5f and < 1f);
        float first = new Random(seed).NextSingle(), dropout = 1f - first, keep = 1f - dropout, scale = 1f / keep;
        Assert.Equal(first, keep);
        const int B = 2, H = 4;
        var logits = new StreamingLogits(Model(dropout));
        logits.Reset(B);
        logits.ReseedDropout(seed);
        var draws = new Random(seed);
        // Two chunks, 3 and 2 steps: the second's mask continues the same draws.
        var masks = new List<float>();
        foreach (var (ids, steps) in new[] { (new[] { 1, 1, 3, 4, 5, 6 }, 3), (new[] { 3, 4, 6, 5 }, 2) })
        {
            logits.Forward(ids, steps, training: true);
            float[] expected = [.. Enumerable.Range(0, steps * B * H).Select(_ => draws.NextSingle() < keep ? scale : 0f)];
            Assert.Equal(expected, logits.HeadDropoutMask.ToArray());
            masks.AddRange(expected);
        }
        Assert.Contains(0f, masks);
        Assert.Contains(scale, masks);

        logits.Reset(B);
        logits.ReseedDropout(seed);
        logits.Forward([1, 1, 3, 4], 2, training: true);
        Assert.Equal(0f, logits.HeadDropoutMask[0]);
    }

    [Fact]
    public void NoHeadMask_IsReportedWithoutDropout_OrAfterAnInferenceChunk()
    {
        var plain = new StreamingLogits(Model(0f));
        plain.Reset(1);
        plain.Forward([1, 3], 2, training: true);
        Assert.True(plain.HeadDropoutMask.IsEmpty);

        var dropped = new StreamingLogits(Model(0.5f));
        dropped.Reset(1);
        dropped.Forward([1, 3], 2, training: true);
        Assert.Equal(2 * 4, dropped.HeadDropoutMask.Length);
        dropped.Forward([4, 5], 2, training: false);
        Assert.True(dropped.HeadDropoutMask.IsEmpty);
    }

    [Fact]
    public void ABackwardPassAfterAnInferenceChunk_IsRefusedBeforeAnyGradientIsAdded()
    {
        var model = Model(0f);
        var logits = new StreamingLogits(model);
        logits.Reset(2);
        logits.Forward([1, 1, 3, 4], 2, training: false);
        model.Parameters.ZeroGradients();
        float[] gradient = [.. Enumerable.Range(0, 2 * 2 * s_vocabulary.Count).Select(i => 0.1f * (i % 5) - 0.2f)];
        var error = Assert.Throws<InvalidOperationException>(() => logits.Backward(gradient));
        Assert.Equal("Backward needs a Forward with training: true first.", error.Message);
        Assert.All(model.Parameters.Gradients.ToArray(), g => Assert.Equal(0f, g));
    }
}
