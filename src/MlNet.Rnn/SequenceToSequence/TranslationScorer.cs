using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn.Data;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.SequenceToSequence;
using MlNet.Rnn.Scoring;

namespace MlNet.Rnn.SequenceToSequence;

/// <summary>
/// The scorer of <see cref="SequenceToSequenceTransformer"/> for one cursor or prediction engine: each row's source ids are staged in
/// a <see cref="SequenceDataset"/> and the staged rows are decoded at once (greedy decoding as one batch, beam search row by row) in
/// this scorer's <see cref="SequenceToSequenceWorkspace"/> over the shared model; each row's output is the decoded keys of the
/// label's key type (0 where the model emitted no label key).
/// </summary>
internal sealed class TranslationScorer(SequenceToSequenceTransformer transformer, DataViewRow input, int maxDegreeOfParallelism) : IBatchScorer
{
    private static readonly float[] s_noTarget = [0f];
    private readonly KeyVectorReader _reader = transformer.Source.CreateReader(input);
    private readonly SequenceToSequenceWorkspace _workspace = transformer.Model.CreateWorkspace(maxDegreeOfParallelism);
    private readonly SequenceDataset _staged = new(featuresPerStep: 0, targetWidth: 1);
    private Translation[] _translations = [];

    public int Count => _staged.Count;

    public bool IsFull => false;

    public void Stage(long position) => _staged.AddTokens(_reader.ReadNonEmptyReused(position, "source"), s_noTarget);

    public void Clear() => _staged.Clear();

    public void Score() => _translations = _workspace.Translate(_staged, transformer.Decoding);

    public Delegate Getter(int output, Func<int> row) =>
        KeyVectorColumn.MakeGetter((KeyDataViewType)transformer.OutputType.ItemType, transformer.TargetVocabulary, () => Translation(row()).Tokens);

    /// <summary>The translation of scored row <paramref name="row"/> (read after <paramref name="row"/> is known: finding it may score the batch).</summary>
    private Translation Translation(int row) => _translations[row];
}
