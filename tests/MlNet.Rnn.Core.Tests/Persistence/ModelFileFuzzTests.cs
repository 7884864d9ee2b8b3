using MlNet.Rnn.Core.Models;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// The deterministic fuzz corpus of model files (<see cref="ModelFileMutations"/>, the same mutations as the campaign in
/// <c>tests/Fuzz</c>): a tiny LSTM checkpoint truncated at every length, every header byte flipped, every data byte flipped,
/// every header and metadata lie (lengths, shapes, dtypes, offsets, huge declared sizes, repeated keys, tensors missing, extra
/// and renamed, checksums, each field of the configuration) and seeded stacks of random mutations. Each one loads through
/// <see cref="SequenceModelFile.Load(Stream, string?)"/> and scores bit for bit as the original, or is refused with an
/// <see cref="InvalidDataException"/> naming the source, allocating under 200 MB; never another exception.
/// </summary>
public sealed class ModelFileFuzzTests
{
    private static readonly ModelFileFuzzTarget Target = ModelFileFuzzTarget.ForSequenceModel();

    /// <summary>Fails listing the cases that broke the rule (the first 20); returns the outcomes.</summary>
    private static List<FuzzOutcome> AssertEveryCaseKeepsTheRule(IEnumerable<FuzzOutcome> outcomes)
    {
        var all = outcomes.ToList();
        var broken = all.Where(outcome => outcome.Problem is not null).ToList();
        Assert.True(broken.Count == 0, $"{broken.Count} of {all.Count} cases broke the rule:{Environment.NewLine}" +
            string.Join(Environment.NewLine, broken.Take(20).Select(outcome => $"  {outcome.Case}: {outcome.Problem}")));
        return all;
    }

    [Fact]
    public void TruncatedAtEveryLength_IsRefused_FromEitherKindOfStream()
    {
        var outcomes = AssertEveryCaseKeepsTheRule(ModelFileMutations.Truncations(Target.File)
            .SelectMany(mutant => new[] { Target.Run(mutant, forwardOnly: false), Target.Run(mutant, forwardOnly: true) }));

        Assert.Equal(2 * Target.File.Length, outcomes.Count);
        Assert.All(outcomes, outcome => Assert.Contains("truncated", outcome.Message));
    }

    [Fact]
    public void EveryHeaderByteFlipped_IsRefusedOrHarmless()
    {
        var mutants = ModelFileMutations.HeaderFlips(Target.File, 0x01, 0x20, 0x80).ToList();
        var outcomes = AssertEveryCaseKeepsTheRule(mutants.Select((mutant, i) => Target.Run(mutant, forwardOnly: i % 2 == 1)));

        // A flip inside a metadata value, a number's digit the configuration ignores, or the padding may leave a file that
        // loads as the original; most must be refused.
        int refused = outcomes.Count(outcome => outcome.Result != FuzzOutcome.Identical);
        Assert.True(refused > 3 * (outcomes.Count - refused), $"{refused} of {outcomes.Count} refused");
    }

    [Fact]
    public void EveryDataByteFlipped_IsRefusedByItsChecksum_ButInTheOptimizerStateThatLoadingSkips()
    {
        var tensors = ModelFileMutations.Tensors(Target.File);
        var (_, skippedBegin, skippedEnd) = Assert.Single(tensors, tensor => tensor.Name.StartsWith("optimizer.", StringComparison.Ordinal));
        int dataStart = Target.File.Length - (int)tensors.Max(tensor => tensor.End);

        var mutants = ModelFileMutations.DataFlips(Target.File, seed: 11).ToList();
        var outcomes = AssertEveryCaseKeepsTheRule(mutants.Select((mutant, i) => Target.Run(mutant, forwardOnly: i % 2 == 1)));

        for (int i = 0; i < outcomes.Count; i++)
        {
            bool skipped = i >= (int)skippedBegin && i < (int)skippedEnd;
            Assert.True(skipped == (outcomes[i].Result == FuzzOutcome.Identical), $"{outcomes[i].Case}: {outcomes[i].Result} {outcomes[i].Message}");
            if (!skipped) Assert.Contains("does not match its checksum", outcomes[i].Message);
        }
        Assert.Equal(Target.File.Length - dataStart, outcomes.Count);
    }

    [Fact]
    public void EveryHeaderAndMetadataLie_IsRefusedOrHarmless_FromEitherKindOfStream()
    {
        var mutants = ModelFileMutations.HeaderLies(Target.File).ToList();
        var outcomes = AssertEveryCaseKeepsTheRule(mutants
            .SelectMany(mutant => new[] { Target.Run(mutant, forwardOnly: false), Target.Run(mutant, forwardOnly: true) }));

        // Lies outside the metadata that describe the same model load as it; any change to the metadata, even one that describes
        // the same model or removes the tensors' checksums, is refused by the metadata's own checksum; the damaging lies are refused.
        var loaded = outcomes.Where(outcome => outcome.Result == FuzzOutcome.Identical).Select(outcome => outcome.Case).ToHashSet();
        Assert.Contains("header padded with tabs", loaded);
        foreach (string metadataLie in new[]
        {
            "metadata gains an entry", "tensor optimizer.extra [3] appended with its checksum", "metadata checksums_xxh3_64 removed",
            "configuration MaxDegreeOfParallelism = 2147483647",
        })
            Assert.Contains("its __metadata__ does not match its checksum", Assert.Single(outcomes, outcome => outcome.Case == metadataLie).Message);
        foreach (string refused in new[]
        {
            "header length 2^64 - 1 (18446744073709551615)", "a tensor of 2·10^9 elements past the data", "configuration with 2^31 - 1 layers", "configuration with 2^31 - 1 layers in both directions",
            "configuration with H = 2^31 - 1", "head.weight and head.bias swap data_offsets", "tensor head.bias removed with its data and checksum",
            "weight_hh_l0 dtype F16 with the last dimension doubled", "a checksum off by one",
            "the checksum list's key damaged", "the checksum list's key damaged, and the first data byte",
            "the checksum list's key and JSON damaged, and the first data byte",
        })
            Assert.DoesNotContain(refused, loaded);
        Assert.True(mutants.Count > 300, $"{mutants.Count} lies");
        // Whatever sizes a header declares, refusing a 1.7 KB file costs about the bytes present, from either kind of stream.
        var largest = outcomes.MaxBy(outcome => outcome.AllocatedBytes)!;
        Assert.True(largest.AllocatedBytes < 16_000_000, $"{largest.Case} allocated {largest.AllocatedBytes:N0} bytes");
    }

    [Fact]
    public void SeededStacksOfRandomMutations_AreRefusedOrHarmless()
    {
        var lies = ModelFileMutations.HeaderLies(Target.File).ToList();
        var random = new Random(2026);
        var outcomes = AssertEveryCaseKeepsTheRule(Enumerable.Range(0, 3000)
            .Select(i => Target.Run(ModelFileMutations.Random(Target.File, random, lies), forwardOnly: i % 2 == 1)));
        Assert.Contains(outcomes, outcome => outcome.Case.Contains(" + ", StringComparison.Ordinal));
    }
}
