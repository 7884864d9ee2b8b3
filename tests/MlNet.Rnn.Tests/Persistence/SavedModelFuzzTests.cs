using MlNet.Rnn.Core.Tests.Persistence;

namespace MlNet.Rnn.Tests.Persistence;

/// <summary>
/// The deterministic fuzz corpus of saved ML.NET models (<see cref="ModelFileMutations.ZipLies"/>, the same mutations as the
/// campaign in <c>tests/Fuzz</c>): every entry of a saved multiclass GRU pipeline renamed, removed, duplicated (either copy
/// differing), emptied, truncated, flipped (its first and last byte among others) and grown by a megabyte; entries added and reordered; the zip itself truncated
/// and flipped. Each one loads through <c>mlContext.Model.Load</c> and scores bit for bit as the original, or throws without a
/// bug's exception anywhere inside, allocating under 200 MB; damage to MlNet.Rnn's own entries is reported naming the entry.
/// </summary>
public sealed class SavedModelFuzzTests
{
    private const string Network = "SequenceModel.safetensors";
    private const string Label = "LabelSchema.idv";

    private static readonly SavedModelFuzzTarget Target = new();

    [Fact]
    public void EveryEntryRenamedRemovedDuplicatedOrDamaged_LoadsAsSavedOrIsRefused_TheNetworkAndLabelByName()
    {
        var outcomes = ModelFileMutations.ZipLies(Target.Zip, flipsPerEntry: 4, seed: 5).Select(Target.Run).ToList();

        var broken = outcomes.Where(outcome => outcome.Problem is not null).ToList();
        Assert.True(broken.Count == 0, $"{broken.Count} of {outcomes.Count} cases broke the rule:{Environment.NewLine}" +
            string.Join(Environment.NewLine, broken.Take(20).Select(outcome => $"  {outcome.Case}: {outcome.Problem}")));

        string[] entries = [.. ModelFileMutations.Entries(Target.Zip).Select(entry => entry.Name)];
        Assert.Contains(entries, name => name.EndsWith("/" + Network, StringComparison.Ordinal));
        Assert.Contains(entries, name => name.EndsWith("/" + Label, StringComparison.Ordinal));
        foreach (var outcome in outcomes)
        {
            // The bytes of the network or the label damaged: refused by the loader that reads them, naming them; an entry
            // missing: refused naming it. A second copy wins over the first, as the zip reader keeps the last of a name.
            bool network = outcome.Case.StartsWith($"TransformerChain/Transform_001/{Network}", StringComparison.Ordinal);
            bool label = outcome.Case.StartsWith($"TransformerChain/Transform_001/{Label}", StringComparison.Ordinal);
            if (!network && !label || outcome.Result == FuzzOutcome.Identical) continue;
            string entry = network ? Network : Label;
            bool missing = outcome.Case.Contains("renamed", StringComparison.Ordinal) || outcome.Case.Contains("moved", StringComparison.Ordinal)
                || outcome.Case.EndsWith("removed", StringComparison.Ordinal);
            Assert.Contains(missing ? $"has no {entry}" : network ? $"the recurrent network of the saved model ({Network})" : $"{Label} cannot be read",
                outcome.Message, StringComparison.Ordinal);
        }
        foreach (string refused in new[]
        {
            $"TransformerChain/Transform_001/{Network} one byte short", $"TransformerChain/Transform_001/{Network} duplicated with other bytes last",
            $"TransformerChain/Transform_001/{Label} one byte short", $"TransformerChain/Transform_001/{Network} removed", "every entry removed",
            $"TransformerChain/Transform_001/{Network}: last byte flipped",
        })
            Assert.NotEqual(FuzzOutcome.Identical, Assert.Single(outcomes, outcome => outcome.Case == refused).Result);
        Assert.Equal(FuzzOutcome.Identical, Assert.Single(outcomes, outcome => outcome.Case == "an unknown entry added").Result);
    }
}
