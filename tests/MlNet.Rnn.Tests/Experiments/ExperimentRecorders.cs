
namespace MlNet.Rnn.Tests.Experiments;

/// <summary>Collects a search's reports on the reporting thread (<see cref="Progress{T}"/> would post them elsewhere), calling <paramref name="onReport"/> on each.</summary>
internal sealed class Reports<T>(Action<T>? onReport = null) : IProgress<T>
{
    public List<T> All { get; } = [];

    public void Report(T value)
    {
        All.Add(value);
        onReport?.Invoke(value);
    }
}
