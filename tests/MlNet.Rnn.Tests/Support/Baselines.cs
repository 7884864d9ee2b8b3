namespace MlNet.Rnn.Tests;

/// <summary>Trivial predictors every learned model must clearly beat, computed on the data of the test that uses them.</summary>
public static class Baselines
{
    /// <summary>The accuracy of always answering the most frequent label: the share of that label.</summary>
    public static double Majority<T>(IEnumerable<T> labels)
    {
        var all = labels.ToArray();
        return all.GroupBy(label => label).Max(group => group.Count()) / (double)all.Length;
    }
}
