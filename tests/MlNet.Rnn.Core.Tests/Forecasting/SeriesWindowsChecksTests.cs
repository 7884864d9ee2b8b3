using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Forecasting;

namespace MlNet.Rnn.Core.Tests.Forecasting;

/// <summary>
/// <see cref="SeriesWindows"/> refuses what would read outside the series or nowhere: windows whose targets run past the
/// series' end (the last window whose targets end at the series' end is accepted), a memory budget of 0, a buffer of
/// another shape than the windows' (other features, other target width, per-step targets), and a part number below 0 or
/// at the part count; each as the exception the runtime's own checks give, named and with the whole message.
/// </summary>
public sealed class SeriesWindowsChecksTests
{
    private const int F = 2, W = 3, HZ = 2;

    // 10 steps of 2 features, value 2t + f: windows of 3 steps whose 2 targets lie in the series end before steps 3 to 8.
    private static readonly float[] s_series = [.. Enumerable.Range(0, 10 * F).Select(i => (float)i)];

    [Fact]
    public void WindowsWhoseTargetsRunPastTheSeries_AreRefused_AndTheLastWhoseTargetsEndWithItIsRead()
    {
        var windows = new SeriesWindows(s_series, F, W, HZ, first: 3, last: 8, memoryBudget: 1 << 20);
        var part = windows.ReadPart(0, new SequenceDataset(F, HZ));
        Assert.Equal(6, part.Count);
        Assert.Equal([10f, 11f, 12f, 13f, 14f, 15f], part.ValuesOf(5).ToArray()); // steps 5, 6, 7
        Assert.Equal([16f, 18f], part.TargetOf(5).ToArray()); // feature 0 at steps 8 and 9, the series' last

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SeriesWindows(s_series, F, W, HZ, first: 3, last: 9, memoryBudget: 1 << 20));
        const string Name = "(long)(last + horizon) * features";
        Assert.Equal(Name, error.ParamName);
        Assert.Equal(22L, error.ActualValue);
        Assert.Equal($"{Name} ('22') must be less than or equal to '20'. (Parameter '{Name}'){Environment.NewLine}Actual value was 22.", error.Message);
    }

    [Fact]
    public void AMemoryBudgetOfZero_IsRefused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SeriesWindows(s_series, F, W, HZ, first: 3, last: 8, memoryBudget: 0));
        Assert.Equal("memoryBudget", error.ParamName);
        Assert.Equal($"memoryBudget ('0') must be a non-negative and non-zero value. (Parameter 'memoryBudget'){Environment.NewLine}Actual value was 0.",
            error.Message);
    }

    [Fact]
    public void ABufferOfAnotherShape_IsRefused_AndLeftEmpty()
    {
        var windows = new SeriesWindows(s_series, F, W, HZ, first: 3, last: 8, memoryBudget: 1 << 20);
        foreach (var buffer in new[] { new SequenceDataset(1, HZ), new SequenceDataset(F, 1), new SequenceDataset(F, HZ, perStepTargets: true) })
        {
            var error = Assert.Throws<ArgumentException>(() => windows.ReadPart(0, buffer));
            Assert.Equal("buffer", error.ParamName);
            Assert.Equal("The buffer's shape differs from the windows'; make it with their FeaturesPerStep and TargetWidth. (Parameter 'buffer')", error.Message);
            Assert.Equal(0, buffer.Count);
        }
    }

    [Fact]
    public void APartNumberBelowZeroOrAtThePartCount_IsRefused()
    {
        // A budget of one window: six parts of one window each.
        var windows = new SeriesWindows(s_series, F, W, HZ, first: 3, last: 8, memoryBudget: 1);
        Assert.Equal(6, windows.PartCount);
        Assert.Equal(1, windows.PartSize(5));

        var below = Assert.Throws<ArgumentOutOfRangeException>(() => windows.PartSize(-1));
        Assert.Equal("part", below.ParamName);
        Assert.Equal($"part ('-1') must be a non-negative value. (Parameter 'part'){Environment.NewLine}Actual value was -1.", below.Message);
        var past = Assert.Throws<ArgumentOutOfRangeException>(() => windows.PartSize(6));
        Assert.Equal("part", past.ParamName);
        Assert.Equal($"part ('6') must be less than '6'. (Parameter 'part'){Environment.NewLine}Actual value was 6.", past.Message);
        // Reading and summarising a part check it the same way.
        Assert.Equal("part", Assert.Throws<ArgumentOutOfRangeException>(() => windows.ReadPart(-1, new SequenceDataset(F, HZ))).ParamName);
        Assert.Equal("part", Assert.Throws<ArgumentOutOfRangeException>(() => windows.PartSummary(6)).ParamName);
    }
}
