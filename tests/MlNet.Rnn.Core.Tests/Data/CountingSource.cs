using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.Tests.Data;

/// <summary>
/// Another source passed through, counting how often each part is read. It can also claim other part summaries or another
/// example count than its data holds (for the checks a fit makes on summaries alone, before it reads), and fail every read.
/// </summary>
internal sealed class CountingSource(ISequenceSource source) : ISequenceSource
{
    public int[] Reads { get; } = new int[source.PartCount];

    /// <summary>What each part's summary claims, from its real one; null: the real one.</summary>
    public Func<SequenceSummary, SequenceSummary>? Summaries { get; init; }

    /// <summary>The example count claimed; null: the real one.</summary>
    public long? ClaimedExampleCount { get; init; }

    /// <summary>Thrown by every read after the first <see cref="ReadsBeforeFailure"/> (each counted); null: reads pass through.</summary>
    public Exception? ReadFailure { get; init; }

    /// <summary>How many reads pass before <see cref="ReadFailure"/> is thrown.</summary>
    public int ReadsBeforeFailure { get; init; }

    public int FeaturesPerStep => source.FeaturesPerStep;

    public int TargetWidth => source.TargetWidth;

    public bool PerStepTargets => source.PerStepTargets;

    public long ExampleCount => ClaimedExampleCount ?? source.ExampleCount;

    public int PartCount => source.PartCount;

    public int PartSize(int part) => source.PartSize(part);

    public SequenceSummary PartSummary(int part) => Summaries is null ? source.PartSummary(part) : Summaries(source.PartSummary(part));

    public SequenceDataset ReadPart(int part, SequenceDataset buffer)
    {
        Reads[part]++;
        if (ReadFailure is not null && Reads.Sum() > ReadsBeforeFailure) throw ReadFailure;
        return source.ReadPart(part, buffer);
    }
}
