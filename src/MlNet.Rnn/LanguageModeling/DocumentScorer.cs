using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Scoring;

namespace MlNet.Rnn.LanguageModeling;

/// <summary>
/// The scorer of <see cref="LanguageModelTransformer"/> for one cursor or prediction engine: each row's text is encoded and staged
/// as a document in this scorer's <see cref="LanguageModelWorkspace"/> over the shared model, and the staged documents are scored
/// side by side; each row gets its log-likelihood, scored token count (the end token counts), bits per token and perplexity.
/// </summary>
internal sealed class DocumentScorer(LanguageModelTransformer transformer, DataViewRow input, int maxDegreeOfParallelism) : IBatchScorer
{
    /// <summary>
    /// Staged documents are padded to the longest in the batch, so a batch stops growing at 4M padded ids (16 MB for the ids, as
    /// much for the targets), whatever the batch size.
    /// </summary>
    private const long MaxPaddedIds = 1 << 22;

    private readonly ValueGetter<ReadOnlyMemory<char>> _text = input.GetGetter<ReadOnlyMemory<char>>(input.Schema[transformer.InputColumnName]);
    private readonly LanguageModelWorkspace _workspace = transformer.Model.CreateWorkspace(maxDegreeOfParallelism, transformer.Precision);
    private ReadOnlyMemory<char> _value;
    private float[] _scores = [];
    private int _longest;

    public int Count => _workspace.Count;

    public bool IsFull => (long)Count * _longest >= MaxPaddedIds;

    public void Stage(long position)
    {
        _text(ref _value);
        int[] ids = transformer.Vocabulary.Encode(_value.ToString());
        _workspace.Add(ids);
        _longest = Math.Max(_longest, ids.Length + 1);
    }

    public void Clear()
    {
        _workspace.Clear();
        _longest = 0;
    }

    public void Score()
    {
        _workspace.Score();
        int count = LanguageModelTransformer.ScoreColumnNames.Length;
        if (_scores.Length < Count * count) _scores = new float[Math.Max(Count * count, 2 * _scores.Length)];
        for (int row = 0; row < Count; row++)
        {
            var metrics = _workspace.Metrics(row);
            _scores[row * count] = (float)metrics.LogLikelihood;
            _scores[row * count + 1] = metrics.TokenCount;
            _scores[row * count + 2] = (float)metrics.BitsPerToken;
            _scores[row * count + 3] = (float)metrics.Perplexity;
        }
    }

    public Delegate Getter(int output, Func<int> row)
    {
        return (ValueGetter<float>)((ref float value) => value = ScoreOf(row(), output));
    }

    /// <summary>Score <paramref name="output"/> of scored row <paramref name="row"/> (read after <paramref name="row"/> is known: finding it may score the batch).</summary>
    private float ScoreOf(int row, int output) => _scores[row * LanguageModelTransformer.ScoreColumnNames.Length + output];
}
