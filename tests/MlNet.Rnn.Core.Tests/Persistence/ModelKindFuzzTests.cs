namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// The fuzz corpus of <see cref="ModelFileFuzzTests"/> (the same <see cref="ModelFileMutations"/> and rule) run over the model files of
/// the other kinds, each through its own loader: a sequence-to-sequence model (<c>SequenceToSequenceModelFile.Load</c>), a forecaster
/// with an exogenous feature and bounds (<c>RecurrentForecaster.Load</c>, whose <c>forecaster</c> metadata holds the window, horizon and
/// features), a language model (<c>LanguageModel.Load</c>, whose metadata holds the vocabulary) and a tagger
/// (<c>SequenceTagger.Load</c>, a sequence model that must read out every step). Every truncation, header byte flip,
/// data byte flip, header and metadata lie (each member of each metadata object, sizes too large to allocate), and seeded stacks
/// of random mutations either loads and scores bit for bit as the original on a fixed input, or is refused with an
/// <see cref="InvalidDataException"/> naming the source, allocating under 200 MB.
/// </summary>
public sealed class ModelKindFuzzTests
{
    private static readonly Dictionary<string, ModelFileFuzzTarget> Targets = new()
    {
        ["sequence-to-sequence model"] = ModelFileFuzzTarget.ForSequenceToSequence(),
        ["forecaster"] = ModelFileFuzzTarget.ForForecaster(),
        ["language model"] = ModelFileFuzzTarget.ForLanguageModel(),
        ["tagger"] = ModelFileFuzzTarget.ForTagger(),
    };

    /// <summary>The kinds this class fuzzes.</summary>
    public static TheoryData<string> Kinds => new(Targets.Keys);

    /// <summary>Fails listing the cases that broke the rule (the first 20); returns the outcomes.</summary>
    private static List<FuzzOutcome> AssertEveryCaseKeepsTheRule(ModelFileFuzzTarget target, IEnumerable<FuzzOutcome> outcomes)
    {
        var all = outcomes.ToList();
        var broken = all.Where(outcome => outcome.Problem is not null).ToList();
        Assert.True(broken.Count == 0, $"{target.Kind}: {broken.Count} of {all.Count} cases broke the rule:{Environment.NewLine}" +
            string.Join(Environment.NewLine, broken.Take(20).Select(outcome => $"  {outcome.Case}: {outcome.Problem}")));
        return all;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TruncatedAtEveryLength_IsRefused_FromEitherKindOfStream(string kind)
    {
        var target = Targets[kind];
        var outcomes = AssertEveryCaseKeepsTheRule(target, ModelFileMutations.Truncations(target.File)
            .Select((mutant, i) => target.Run(mutant, forwardOnly: i % 2 == 1)));

        Assert.Equal(target.File.Length, outcomes.Count);
        Assert.All(outcomes, outcome => Assert.Contains("truncated", outcome.Message));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryHeaderByteFlipped_IsRefusedOrHarmless(string kind)
    {
        var target = Targets[kind];
        // Each byte of the length and the header flipped once, by 0x01, 0x20 or 0x80 in turn (a digit, a letter's case, UTF-8).
        int headerEnd = 8 + ModelFileMutations.Split(target.File).Header.Length;
        var mutants = Enumerable.Range(0, headerEnd).Select(position => ModelFileMutations.Flip(target.File, position, (byte)(position % 3 == 0 ? 0x01 : position % 3 == 1 ? 0x20 : 0x80)));
        var outcomes = AssertEveryCaseKeepsTheRule(target, mutants.Select((mutant, i) => target.Run(mutant, forwardOnly: i % 2 == 1)));

        int refused = outcomes.Count(outcome => outcome.Result != FuzzOutcome.Identical);
        Assert.True(refused > 3 * (outcomes.Count - refused), $"{refused} of {outcomes.Count} refused");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryDataByteFlipped_IsRefusedByItsChecksum(string kind)
    {
        var target = Targets[kind];
        var outcomes = AssertEveryCaseKeepsTheRule(target, ModelFileMutations.DataFlips(target.File, seed: 11)
            .Select((mutant, i) => target.Run(mutant, forwardOnly: i % 2 == 1)));

        Assert.Equal(ModelFileMutations.Split(target.File).Data.Length, outcomes.Count);
        Assert.All(outcomes, outcome => Assert.Contains("does not match its checksum", outcome.Message));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryHeaderAndMetadataLie_IsRefusedOrHarmless(string kind)
    {
        var target = Targets[kind];
        var mutants = ModelFileMutations.HeaderLies(target.File).ToList();
        var outcomes = AssertEveryCaseKeepsTheRule(target, mutants.Select((mutant, i) => target.Run(mutant, forwardOnly: i % 2 == 1)));

        var loaded = outcomes.Where(outcome => outcome.Result == FuzzOutcome.Identical)
            .Select(outcome => outcome.Case.Replace(" (forward-only stream)", "", StringComparison.Ordinal)).ToHashSet();
        Assert.Contains("header padded with tabs", loaded);
        // The metadata's own checksum refuses any change to it, even one that describes the same model.
        foreach (string metadataLie in new[] { "metadata gains an entry", "metadata checksums_xxh3_64 removed" })
            Assert.Contains("its __metadata__ does not match its checksum", outcomes.First(outcome => outcome.Case.Replace(" (forward-only stream)", "", StringComparison.Ordinal) == metadataLie).Message);
        string[] kindsOwn = kind switch
        {
            "sequence-to-sequence model" =>
            [
                "model_kind is ''", "metadata model_kind removed", "configuration with a source vocabulary of 2^31 - 1", "configuration with a target vocabulary of 100,000",
                "configuration EndId = 2147483647", "configuration Attention = \"Nope\"",
            ],
            "forecaster" =>
            [
                "metadata forecaster removed", "forecaster is '{}'", "forecaster WindowSize = 2147483647", "forecaster Horizon = 0", "forecaster ExogenousFeatures removed",
                "forecaster ConfidenceLevel = 2.5", "configuration with features per step of 2^31 - 1", "configuration with outputs of 100,000",
            ],
            "tagger" => ["configuration Readout removed", "configuration Readout = \"Nope\"", "configuration with outputs of 100,000"],
            _ =>
            [
                "metadata language_model.vocabulary removed", "language_model.vocabulary Tokens loses its first element",
                "language_model.vocabulary Tokens repeats its first element", "language_model.vocabulary Tokens first element = \"\"",
                "configuration with a vocabulary of 100,000",
            ],
        };
        var names = mutants.Select(mutant => mutant.Name).ToHashSet();
        foreach (string refused in new[]
        {
            "configuration with 2^31 - 1 layers", "configuration with 2^31 - 1 layers in both directions", "configuration with 100,000 layers",
            "configuration with H = 2^31 - 1", "configuration with H = 50,000", "a checksum off by one", "the checksum list's key damaged, and the first data byte",
        }.Concat(kindsOwn))
        {
            Assert.Contains(refused, names);
            Assert.DoesNotContain(refused, loaded);
        }
        Assert.True(mutants.Count > 300, $"{mutants.Count} lies");
        var largest = outcomes.MaxBy(outcome => outcome.AllocatedBytes)!;
        Assert.True(largest.AllocatedBytes < 16_000_000, $"{largest.Case} allocated {largest.AllocatedBytes:N0} bytes");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void SeededStacksOfRandomMutations_AreRefusedOrHarmless(string kind)
    {
        var target = Targets[kind];
        var lies = ModelFileMutations.HeaderLies(target.File).ToList();
        var random = new Random(2026);
        var outcomes = AssertEveryCaseKeepsTheRule(target, Enumerable.Range(0, 300)
            .Select(i => target.Run(ModelFileMutations.Random(target.File, random, lies), forwardOnly: i % 2 == 1)));
        Assert.Contains(outcomes, outcome => outcome.Case.Contains(" + ", StringComparison.Ordinal));
    }
}
