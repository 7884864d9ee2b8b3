using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests.Scoring;

/// <summary>
/// A data view of rows with an <c>Id</c> (the row's index, Single) and <c>Features</c> (a fixed-size vector of Singles), whose cursors record what
/// a consumer does to them: how many rows were read, which cursors were disposed, the random source a cursor was asked for.
/// Every cursor reports <see cref="BatchId"/> as its batch; a cursor set of n splits the rows by index modulo n.
/// </summary>
internal sealed class ProbeView(float[][] features, bool canShuffle) : IDataView
{
    /// <summary>The batch every cursor reports.</summary>
    public const long BatchId = 7;

    /// <summary>Rows the cursors have moved to, in total.</summary>
    public int RowsRead { get; private set; }

    /// <summary>Cursors disposed.</summary>
    public int CursorsDisposed { get; private set; }

    public bool CanShuffle => canShuffle;

    public DataViewSchema Schema { get; } = MakeSchema(features[0].Length);

    public long? GetRowCount() => features.Length;

    /// <summary>The schema: <c>Id</c> and <c>Features</c> of <paramref name="width"/> Singles.</summary>
    public static DataViewSchema MakeSchema(int width = 3)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("Id", NumberDataViewType.Single);
        builder.AddColumn("Features", new VectorDataViewType(NumberDataViewType.Single, width));
        return builder.ToSchema();
    }

    /// <summary>The row order a cursor made with <paramref name="rand"/> reads: the rows in order without one, else shuffled by it.</summary>
    public int[] Order(Random? rand)
    {
        int[] order = [.. Enumerable.Range(0, features.Length)];
        if (rand is not null) rand.Shuffle(order);
        return order;
    }

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, Order(rand), columnsNeeded);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        int[] order = Order(rand);
        return [.. Enumerable.Range(0, n).Select(k => (DataViewRowCursor)new Cursor(this, [.. order.Where((_, i) => i % n == k)], columnsNeeded))];
    }

    private sealed class Cursor(ProbeView parent, int[] order, IEnumerable<DataViewSchema.Column> columnsNeeded) : DataViewRowCursor
    {
        private readonly HashSet<int> _active = [.. columnsNeeded.Select(c => c.Index)];
        private long _position = -1;

        public override DataViewSchema Schema => parent.Schema;

        public override long Position => _position;

        public override long Batch => BatchId;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = new DataViewRowId((ulong)order[_position], 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            Assert.True(IsColumnActive(column), $"column {column.Name} was read without being asked for");
            Delegate getter = column.Index == 0
                ? (ValueGetter<float>)((ref float value) => value = order[_position])
                : (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) => value = new VBuffer<float>(parent.Width, [.. parent.Features(order[_position])]));
            return (ValueGetter<TValue>)getter;
        }

        public override bool MoveNext()
        {
            if (_position + 1 >= order.Length) return false;
            _position++;
            parent.RowsRead++;
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) parent.CursorsDisposed++;
            base.Dispose(disposing);
        }
    }

    private int Width => features[0].Length;

    private float[] Features(int row) => features[row];
}

/// <summary>
/// A single input row (what <c>PredictionEngine</c> hands a mapper) with the <see cref="ProbeView"/> schema, whose position and
/// features the test sets, and which counts how often its features are read.
/// </summary>
internal sealed class ProbeRow : DataViewRow
{
    public long CurrentPosition { get; set; } = -1;

    public float[] Features { get; set; } = [0, 0, 0];

    public int FeatureReads { get; private set; }

    public override DataViewSchema Schema { get; } = ProbeView.MakeSchema();

    public override long Position => CurrentPosition;

    public override long Batch => 0;

    public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = new DataViewRowId((ulong)CurrentPosition, 0);

    public override bool IsColumnActive(DataViewSchema.Column column) => true;

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        Delegate getter = column.Index == 0
            ? (ValueGetter<float>)((ref float value) => value = CurrentPosition)
            : (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
            {
                FeatureReads++;
                value = new VBuffer<float>(3, [.. Features]);
            });
        return (ValueGetter<TValue>)getter;
    }
}
