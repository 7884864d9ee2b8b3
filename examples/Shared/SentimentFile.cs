namespace MlNet.Rnn.Examples;

/// <summary>A review sentence and its sentiment.</summary>
public sealed class Sentence
{
    /// <summary>The sentence.</summary>
    public string Text { get; set; } = "";

    /// <summary>Whether it is positive.</summary>
    public bool Label { get; set; }
}

/// <summary>
/// Reads the Amazon sentences of UCI "Sentiment Labelled Sentences" (Kotzias et al., KDD 2015; CC BY 4.0) as fetched by
/// <c>examples/data/fetch.sh sentiment</c>: one sentence, a tab, 0 or 1 per line.
/// </summary>
public static class SentimentFile
{
    /// <summary>Every sentence in file order.</summary>
    public static Sentence[] ReadAmazon() =>
        [.. System.IO.File.ReadLines(DataCache.File("sentiment", "amazon_cells_labelled.txt")).Where(line => line.Contains('\t')).Select(line =>
        {
            int tab = line.LastIndexOf('\t');
            return new Sentence { Text = line[..tab], Label = line[(tab + 1)..].Trim() == "1" };
        })];
}
