using Microsoft.ML;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Data;

namespace MlNet.Rnn.Scoring;

/// <summary>
/// The scorer of <see cref="RecurrentPredictionTransformer"/> (classification, regression, tagging) for one cursor or prediction
/// engine: each row's sequence is staged in a <see cref="SequenceDataset"/>, the staged rows are filled into one padded
/// <see cref="SequenceBatch"/> and run through the shared model in this scorer's <see cref="SequenceModelWorkspace"/>, giving the
/// raw outputs <c>[B, O]</c> (or <c>[T, B, O]</c> per step). The features the head read (<see cref="SequenceModelWorkspace.ReadoutFeatures"/>:
/// final states <c>[B, D·H]</c>, or every step's <c>[T, B, D·H]</c> time-major and padded) are read in place from the workspace until
/// the next batch, each row's own steps picked out of the padded layout. Buffers grow to the largest batch and are reused; the model
/// is never copied.
/// </summary>
internal sealed class SequenceModelScorer : IBatchScorer
{
    /// <summary>16 MB of staged floats per cursor, whatever the batch size.</summary>
    private const int MaxStagedValues = 1 << 22;

    private static readonly float[] s_noTarget = [0f];
    private readonly OutputColumns _outputs;
    private readonly SequenceReader _reader;
    private readonly SequenceModelWorkspace _workspace;
    private readonly SequenceDataset _staged;
    private readonly SequenceBatch _batch = new();
    private readonly bool _tokens;
    private readonly int _outputSize, _hiddenStateSize;
    private float[] _raw = [];
    private int[] _indices = [];

    public SequenceModelScorer(RecurrentPredictionTransformer transformer, DataViewRow input, int maxDegreeOfParallelism)
    {
        _outputs = transformer.Outputs;
        _reader = transformer.Column.CreateReader(input);
        _workspace = transformer.Model.CreateWorkspace(maxDegreeOfParallelism, transformer.Precision);
        _tokens = transformer.Column.Tokens;
        _staged = new SequenceDataset(_tokens ? 0 : transformer.Column.FeaturesPerStep, targetWidth: 1);
        _outputSize = transformer.Model.OutputSize;
        _hiddenStateSize = transformer.Model.HiddenStateSize;
    }

    public int Count => _staged.Count;

    public bool IsFull => _staged.ValueCount >= MaxStagedValues;

    public void Stage(long position)
    {
        _reader.Read(position);
        if (_tokens) _staged.AddTokens(_reader.Ids, s_noTarget);
        else _staged.Add(_reader.Values, s_noTarget);
    }

    public void Clear() => _staged.Clear();

    public void Score()
    {
        int B = _staged.Count;
        if (B == 0) return;
        if (_indices.Length < B) _indices = new int[Math.Max(B, 2 * _indices.Length)];
        for (int b = 0; b < B; b++) _indices[b] = b;
        _staged.Fill(_indices.AsSpan(0, B), _batch);
        var model = _workspace.Model;
        int length = model.OutputRows(_batch) * _outputSize; // [B, O], or [T, B, O] for a model that reads out every step
        Grow(ref _raw, length);
        _workspace.Forward(_batch, _raw.AsSpan(0, length));
    }

    public Delegate Getter(int output, Func<int> row) => _outputs.MakeGetter(output, this, row);

    /// <summary>Raw outputs of scored row <paramref name="row"/>.</summary>
    public ReadOnlySpan<float> RawOutput(int row) => _raw.AsSpan(row * _outputSize, _outputSize);

    /// <summary>T of scored row <paramref name="row"/>.</summary>
    public int Steps(int row) => _staged.LengthOf(row);

    /// <summary>Raw outputs of step <paramref name="step"/> of scored row <paramref name="row"/>, for a model that reads out every step.</summary>
    public ReadOnlySpan<float> StepOutput(int row, int step) => _raw.AsSpan((step * _batch.BatchSize + row) * _outputSize, _outputSize);

    /// <summary>The final hidden state <c>[D·H]</c> the head read for scored row <paramref name="row"/>, for a model that reads out the last step.</summary>
    public ReadOnlySpan<float> HiddenState(int row) => _workspace.ReadoutFeatures.Slice(row * _hiddenStateSize, _hiddenStateSize);

    /// <summary>
    /// The top layer's output <c>[D·H]</c> the head read at step <paramref name="step"/> of scored row <paramref name="row"/>, for a
    /// model that reads out every step (the workspace holds them time-major, <c>[T, B, D·H]</c>, padded to the batch's longest row).
    /// </summary>
    public ReadOnlySpan<float> StepHiddenState(int row, int step) =>
        _workspace.ReadoutFeatures.Slice((step * _batch.BatchSize + row) * _hiddenStateSize, _hiddenStateSize);

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[Math.Max(length, buffer.Length * 2)];
    }
}
