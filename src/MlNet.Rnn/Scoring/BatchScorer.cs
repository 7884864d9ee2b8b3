using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Data;
using MlNet.Rnn.Models;

namespace MlNet.Rnn.Scoring;

/// <summary>
/// One cursor's (or prediction engine's) scoring workspace: its own copy of the model, a staging area that rows are
/// appended to, and the outputs of the last <see cref="Score"/>: raw outputs <c>[B, O]</c> (logits or values) and, when
/// asked, the top layer's final hidden state <c>[B, D·H]</c>. Buffers grow to the largest batch seen and are reused.
/// </summary>
internal sealed class BatchScorer
{
    private readonly SequenceModel _model;
    private readonly SequenceColumn _column;
    private readonly SequenceBatch _batch = new();
    private float[] _values = [], _raw = [], _hidden = [];
    private int[] _ids = [], _lengths = [], _starts = [];
    private int _valueCount;

    public BatchScorer(RecurrentModelParameters model, SequenceColumn column, int maxDegreeOfParallelism)
    {
        _model = model.CreateWorkspace(maxDegreeOfParallelism);
        _column = column;
    }

    /// <summary>Rows staged (or scored).</summary>
    public int Count { get; private set; }

    /// <summary>Values (floats or ids) staged so far, to bound a batch's memory.</summary>
    public int StagedValues => _valueCount;

    /// <summary>Empties the staging area.</summary>
    public void Clear()
    {
        Count = 0;
        _valueCount = 0;
    }

    /// <summary>Stages the row <paramref name="reader"/> last read.</summary>
    public void Add(SequenceReader reader)
    {
        int length = _column.Tokens ? reader.Steps : reader.Steps * _column.FeaturesPerStep;
        Grow(ref _lengths, Count + 1);
        Grow(ref _starts, Count + 1);
        _lengths[Count] = reader.Steps;
        _starts[Count] = _valueCount;
        if (_column.Tokens)
        {
            Grow(ref _ids, _valueCount + length);
            reader.Ids.CopyTo(_ids.AsSpan(_valueCount));
        }
        else
        {
            Grow(ref _values, _valueCount + length);
            reader.Values.CopyTo(_values.AsSpan(_valueCount));
        }
        _valueCount += length;
        Count++;
    }

    /// <summary>Runs the staged rows through the network as one batch; with <paramref name="hiddenState"/> also keeps the final hidden states.</summary>
    public void Score(bool hiddenState)
    {
        int B = Count;
        if (B == 0) return;
        int T = 0;
        for (int b = 0; b < B; b++) T = Math.Max(T, _lengths[b]);
        int I = _column.FeaturesPerStep;
        _batch.Reset(B, T, I, targetWidth: 1, perStepTargets: false);
        Span<float> input = _batch.Input;
        Span<int> ids = _batch.Ids, lengths = _batch.Lengths;
        for (int b = 0; b < B; b++)
        {
            int length = _lengths[b], start = _starts[b];
            lengths[b] = length;
            // [T, B, I] time-major (ids [T, B]).
            for (int t = 0; t < length; t++)
            {
                if (_column.Tokens) ids[t * B + b] = _ids[start + t];
                else _values.AsSpan(start + t * I, I).CopyTo(input.Slice((t * B + b) * I, I));
            }
        }
        int rows = _model.OutputRows(_batch) * _model.OutputSize; // [B, O], or [T, B, O] for a model that reads out every step
        Grow(ref _raw, rows);
        _model.Forward(_batch, _raw.AsSpan(0, rows), training: false);
        if (hiddenState)
        {
            int DH = _model.Network.OutputSize;
            Grow(ref _hidden, B * DH);
            _model.LastReadoutFeatures.Slice(0, B * DH).CopyTo(_hidden);
        }
    }

    /// <summary>Raw outputs of staged row <paramref name="row"/> after <see cref="Score"/>.</summary>
    public ReadOnlySpan<float> RawOutput(int row) => _raw.AsSpan(row * _model.OutputSize, _model.OutputSize);

    /// <summary>T of staged row <paramref name="row"/>.</summary>
    public int Steps(int row) => _lengths[row];

    /// <summary>Raw outputs of step <paramref name="step"/> of staged row <paramref name="row"/> after <see cref="Score"/>, for a model that reads out every step.</summary>
    public ReadOnlySpan<float> StepOutput(int row, int step) => _raw.AsSpan((step * Count + row) * _model.OutputSize, _model.OutputSize);

    /// <summary>The final hidden state <c>[D·H]</c> of row <paramref name="row"/> after <see cref="Score"/> with hidden states.</summary>
    public ReadOnlySpan<float> HiddenState(int row)
    {
        int DH = _model.Network.OutputSize;
        return _hidden.AsSpan(row * DH, DH);
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) Array.Resize(ref buffer, Math.Max(length, buffer.Length * 2));
    }
}
