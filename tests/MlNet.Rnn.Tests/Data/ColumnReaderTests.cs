using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Data;

namespace MlNet.Rnn.Tests.Data;

/// <summary>A row holding a Single vector.</summary>
public sealed class NumberVectorRow
{
    public VBuffer<float> Features { get; set; }
}

/// <summary>A row holding a vector of UInt32 keys.</summary>
public sealed class KeyVectorRow
{
    public VBuffer<uint> Keys { get; set; }
}

/// <summary>
/// The feature readers every trainer uses (<see cref="SequenceColumn"/>, <see cref="SequenceReader"/>,
/// <see cref="KeyVectorColumn"/>, <see cref="KeyVectorReader"/>), read row by row from tiny data views: which column types
/// are accepted and how a refusal names the column, its role, its type and what is expected; each row's refusals (empty,
/// not whole steps, non-finite) with the row, step and feature; the exact edges (one step of exactly featuresPerStep values,
/// key count K = 1 and the largest K accepted); sparse rows densified; variable-length rows giving their own step counts; and
/// buffers reused across rows without leaking a longer row's values into a shorter one.
/// </summary>
public sealed class ColumnReaderTests
{
    private static readonly IExceptionContext s_ectx = new MLContext(seed: 1);

    private static IDataView Numbers(int fixedSize, params VBuffer<float>[] rows)
    {
        var definition = SchemaDefinition.Create(typeof(NumberVectorRow));
        definition[nameof(NumberVectorRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, fixedSize);
        return new MLContext(seed: 1).Data.LoadFromEnumerable(rows.Select(r => new NumberVectorRow { Features = r }).ToArray(), definition);
    }

    private static IDataView Keys(int keyCount, params VBuffer<uint>[] rows)
    {
        var definition = SchemaDefinition.Create(typeof(KeyVectorRow));
        definition[nameof(KeyVectorRow.Keys)].ColumnType = new VectorDataViewType(new KeyDataViewType(typeof(uint), keyCount), 0);
        return new MLContext(seed: 1).Data.LoadFromEnumerable(rows.Select(r => new KeyVectorRow { Keys = r }).ToArray(), definition);
    }

    private static VBuffer<float> Dense(params float[] values) => new(values.Length, values);

    private static VBuffer<uint> KeyRow(params uint[] keys) => new(keys.Length, keys);

    /// <summary>Reads every row of a numeric column: for each row its step count and its values.</summary>
    private static List<(int Steps, float[] Values)> ReadNumbers(IDataView data, int featuresPerStep)
    {
        var column = SequenceColumn.Numeric(nameof(NumberVectorRow.Features), featuresPerStep);
        using var cursor = data.GetRowCursor(data.Schema);
        var reader = column.CreateReader(cursor);
        var rows = new List<(int, float[])>();
        while (cursor.MoveNext())
        {
            reader.Read(cursor.Position);
            Assert.Equal(0, reader.Ids.Length); // a numeric row has no token ids
            rows.Add((reader.Steps, reader.Values.ToArray()));
        }
        return rows;
    }

    private static void AssertRow(int steps, float[] values, (int Steps, float[] Values) row)
    {
        Assert.Equal(steps, row.Steps);
        Assert.Equal(values, row.Values);
    }

    private static InvalidOperationException ReadNumbersFails(IDataView data, int featuresPerStep) =>
        Assert.Throws<InvalidOperationException>(() => ReadNumbers(data, featuresPerStep));

    [Fact]
    public void VariableLengthRows_GiveTheirOwnStepCounts_AndALongRowLeavesNothingInAShortOne()
    {
        var data = Numbers(0, Dense(1, 2, 3, 4, 5, 6), Dense(7, 8), Dense(9, 10, 11, 12));
        var rows = ReadNumbers(data, featuresPerStep: 2);
        Assert.Equal(3, rows.Count);
        AssertRow(3, new float[] { 1, 2, 3, 4, 5, 6 }, rows[0]);
        AssertRow(1, new float[] { 7, 8 }, rows[1]);
        AssertRow(2, new float[] { 9, 10, 11, 12 }, rows[2]);
    }

    [Fact]
    public void ARowOfExactlyFeaturesPerStepValues_IsOneStep()
    {
        var rows = ReadNumbers(Numbers(3, Dense(0.5f, -1, 2)), featuresPerStep: 3);
        AssertRow(1, new float[] { 0.5f, -1, 2 }, rows[0]);
    }

    [Fact]
    public void SparseRows_AreDensifiedWithZerosInTheGaps()
    {
        // a dense row first, so a reused buffer would leak its values into the sparse row's gaps
        var data = Numbers(6, Dense(9, 9, 9, 9, 9, 9), new VBuffer<float>(6, 2, [4, 5], [1, 4]));
        var rows = ReadNumbers(data, featuresPerStep: 3);
        AssertRow(2, new float[] { 0, 4, 0, 0, 5, 0 }, rows[1]);
    }

    [Fact]
    public void AnEmptyNumericRow_IsRefusedNamingRowAndColumn()
    {
        var error = ReadNumbersFails(Numbers(0, Dense(1, 2), Dense()), featuresPerStep: 2);
        Assert.Equal("Row 1 of column 'Features' is an empty sequence; every row needs at least one step (filter empty rows out first).", error.Message);
    }

    [Fact]
    public void ARowThatIsNotWholeSteps_IsRefusedWithItsLengthAndFeaturesPerStep()
    {
        var error = ReadNumbersFails(Numbers(0, Dense(1, 2, 3, 4), Dense(1, 2, 3, 4, 5)), featuresPerStep: 2);
        Assert.StartsWith("Row 1 of column 'Features' has 5 values, which is not a whole number of steps of featuresPerStep = 2;", error.Message);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "Infinity")]
    [InlineData(float.NegativeInfinity, "-Infinity")]
    public void ANonFiniteFeature_IsRefusedNamingRowStepAndFeature(float bad, string printed)
    {
        // value index 7 with 3 features per step: step 7 / 3 = 2, feature 7 % 3 = 1
        float[] values = [0, 1, 2, 3, 4, 5, 6, bad, 8];
        var error = ReadNumbersFails(Numbers(9, Dense(0, 0, 0, 0, 0, 0, 0, 0, 0), Dense(values)), featuresPerStep: 3);
        Assert.StartsWith($"Row 1 of column 'Features': step 2, feature 1 is {printed}; every feature must be a finite number", error.Message);
    }

    [Fact]
    public void TokenRows_ReadKeysAsIds_BeyondKAsUnknown_AndAnEmptyRowIsRefused()
    {
        // K = 4: keys 1..4 are ids 1..4 (4 = K is still a key); 0 (missing) and 5 (beyond K) are id 0
        var data = Keys(4, KeyRow(1, 2, 3, 4, 5), KeyRow(4, 0), KeyRow());
        var column = SequenceColumn.FromSchema(s_ectx, data.Schema, nameof(KeyVectorRow.Keys), 1);
        Assert.True(column.Tokens);
        using var cursor = data.GetRowCursor(data.Schema);
        var reader = column.CreateReader(cursor);

        Assert.True(cursor.MoveNext());
        reader.Read(cursor.Position);
        Assert.Equal([1, 2, 3, 4, 0], reader.Ids.ToArray());
        Assert.Equal(0, reader.Values.Length);

        Assert.True(cursor.MoveNext());
        reader.Read(cursor.Position);
        Assert.Equal([4, 0], reader.Ids.ToArray()); // only the short row's ids, nothing left of the long one

        Assert.True(cursor.MoveNext());
        var error = Assert.Throws<InvalidOperationException>(() => reader.Read(cursor.Position));
        Assert.Equal("Row 2 of column 'Keys' is an empty sequence; every row needs at least one step (filter empty rows out first).", error.Message);
    }

    [Fact]
    public void KeyVectorReader_SparseRowsDensified_EmptyRowsRefusedWithTheRoleNote()
    {
        var data = Keys(3, new VBuffer<uint>(5, 2, [3, 2], [1, 3]), KeyRow());
        var column = KeyVectorColumn.FromSchema(s_ectx, data.Schema, nameof(KeyVectorRow.Keys), "source");
        Assert.Equal(3, column.KeyCount);
        using var cursor = data.GetRowCursor(data.Schema);
        var reader = column.CreateReader(cursor);

        Assert.True(cursor.MoveNext());
        Assert.Equal([0, 3, 0, 2, 0], reader.Read());
        Assert.Equal([0, 3, 0, 2, 0], reader.ReadNonEmpty(0, "source"));
        Assert.Equal([0, 3, 0, 2, 0], reader.ReadNonEmptyReused(0, "source").ToArray());

        Assert.True(cursor.MoveNext());
        Assert.Empty(reader.Read());
        var source = Assert.Throws<InvalidOperationException>(() => reader.ReadNonEmpty(1, "source"));
        Assert.Equal("Row 1: column 'Keys' (source) is an empty sequence; every source needs at least one token. Filter empty rows out first.", source.Message);
        var target = Assert.Throws<InvalidOperationException>(() => reader.ReadNonEmptyReused(1, "target"));
        Assert.Equal("Row 1: column 'Keys' (target) is an empty sequence; every target needs at least one token (the end token is added by the model). Filter empty rows out first.", target.Message);
    }

    [Fact]
    public void KeyVectorReader_KeepsABufferThatFits_AndGrowsATooSmallOneAtLeastTwofold()
    {
        var data = Keys(3, KeyRow(1, 2, 3), KeyRow(3, 3, 3, 3, 3));
        var column = KeyVectorColumn.FromSchema(s_ectx, data.Schema, nameof(KeyVectorRow.Keys), "source");
        using var cursor = data.GetRowCursor(data.Schema);
        var reader = column.CreateReader(cursor);

        Assert.True(cursor.MoveNext());
        int[] exact = [9, 9, 9];
        int[] ids = exact;
        Assert.Equal(3, reader.ReadInto(ref ids));
        Assert.Same(exact, ids);
        Assert.Equal([1, 2, 3], ids);

        Assert.True(cursor.MoveNext());
        int[] small = [9, 9, 9, 9];
        ids = small;
        Assert.Equal(5, reader.ReadInto(ref ids));
        Assert.True(ids.Length >= 2 * small.Length, $"a buffer of {small.Length} grew to {ids.Length}, less than twice");
        Assert.Equal([3, 3, 3, 3, 3], ids[..5]);
    }

    [Theory]
    [InlineData(1UL, 1)]
    [InlineData(7UL, 7)]
    [InlineData(int.MaxValue - 4UL, int.MaxValue - 4)]
    [InlineData(int.MaxValue - 3UL, null)]
    [InlineData(uint.MaxValue, null)]
    public void KeyCountOf_AcceptsKeyVectorsFromOneKeyToTheLargestModelSize(ulong keyCount, int? expected)
    {
        Assert.Equal(expected, KeyVectorColumn.KeyCountOf(new VectorDataViewType(new KeyDataViewType(typeof(uint), keyCount), 0)));
        Assert.Equal(expected, KeyVectorColumn.KeyCountOf(new VectorDataViewType(new KeyDataViewType(typeof(ulong), keyCount), 3)));
        Assert.Null(KeyVectorColumn.KeyCountOf(new KeyDataViewType(typeof(uint), Math.Min(keyCount, uint.MaxValue))));
        Assert.Null(KeyVectorColumn.KeyCountOf(new VectorDataViewType(NumberDataViewType.UInt32, 3)));
    }

    [Fact]
    public void KeyGetter_WritesEveryIdAsItsKey_AndIdsWithoutAKeyAsMissing()
    {
        int[] tokens = [1, 3, 0, 4, 2];
        var getter = (ValueGetter<VBuffer<ushort>>)KeyVectorColumn.MakeGetter(new KeyDataViewType(typeof(ushort), 3), Vocabulary.OfKeys(3), () => tokens);
        var keys = default(VBuffer<ushort>);
        getter(ref keys);
        Assert.Equal(new ushort[] { 1, 3, 0, 0, 2 }, keys.DenseValues().ToArray());
    }

    /// <summary>A schema with a variable key vector, a fixed Single vector, a scalar key and a scalar Single.</summary>
    private static DataViewSchema MixedSchema()
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("KeyVector", new VectorDataViewType(new KeyDataViewType(typeof(uint), 5), 0));
        builder.AddColumn("FloatVector", new VectorDataViewType(NumberDataViewType.Single, 4));
        builder.AddColumn("ScalarKey", new KeyDataViewType(typeof(uint), 5));
        builder.AddColumn("Scalar", NumberDataViewType.Single);
        return builder.ToSchema();
    }

    /// <summary>The schema shape ML.NET gives an estimator for <paramref name="schema"/> (its factory is internal to ML.NET).</summary>
    private static SchemaShape ShapeOf(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)!
            .Invoke(null, [schema])!;

    [Fact]
    public void KeyVectorColumnCheck_AcceptsOnlyKeyVectors_NamingRoleTypeAndExpectation()
    {
        var shape = ShapeOf(MixedSchema());
        var found = KeyVectorColumn.Check(s_ectx, shape, "KeyVector", "label");
        Assert.Equal("KeyVector", found.Name);
        Assert.True(found.IsKey);

        var missing = Assert.ThrowsAny<Exception>(() => { KeyVectorColumn.Check(s_ectx, shape, "Absent", "label"); });
        Assert.Contains("Could not find label column 'Absent'", missing.Message);
        foreach (var (name, printed) in new[] { ("FloatVector", "Vector<Single>"), ("ScalarKey", "Key<UInt32>"), ("Scalar", "Single") })
        {
            var error = Assert.ThrowsAny<Exception>(() => { KeyVectorColumn.Check(s_ectx, shape, name, "source (feature)"); });
            Assert.Contains($"source (feature) column '{name}'", error.Message);
            Assert.Contains($"expected {KeyVectorColumn.Expected}, got {printed}", error.Message);
        }
    }

    [Fact]
    public void DescribeShape_PrintsTypesAsMlNetDoes()
    {
        var shape = ShapeOf(MixedSchema());
        var keyVector = shape.Single(c => c.Name == "KeyVector");
        var floatVector = shape.Single(c => c.Name == "FloatVector");
        var scalarKey = shape.Single(c => c.Name == "ScalarKey");
        var scalar = shape.Single(c => c.Name == "Scalar");
        Assert.Equal("VarVector<Key<UInt32>>", SequenceColumn.Describe(keyVector));
        Assert.Equal("Vector<Single>", SequenceColumn.Describe(floatVector));
        Assert.Equal("Key<UInt32>", SequenceColumn.Describe(scalarKey));
        Assert.Equal("Single", SequenceColumn.Describe(scalar));
    }

    [Fact]
    public void CheckMatches_RefusesAColumnOfAnotherKind_SayingWhatTheModelReads()
    {
        var schema = MixedSchema();
        SequenceColumn.Keys("KeyVector", 5).CheckMatches(s_ectx, schema);
        SequenceColumn.Numeric("FloatVector", 2).CheckMatches(s_ectx, schema);

        var numbersForKeys = Assert.ThrowsAny<Exception>(() => SequenceColumn.Keys("FloatVector", 5).CheckMatches(s_ectx, schema));
        Assert.Contains("feature column 'FloatVector'", numbersForKeys.Message);
        Assert.Contains("expected a vector of keys with 5 keys (as in the training data), got Vector<Single, 4>", numbersForKeys.Message);

        var keysForNumbers = Assert.ThrowsAny<Exception>(() => SequenceColumn.Numeric("KeyVector", 2).CheckMatches(s_ectx, schema));
        Assert.Contains("feature column 'KeyVector'", keysForNumbers.Message);
        Assert.Contains("expected a vector of Single read as steps of 2 features, got Vector<Key<UInt32, 0-4>>", keysForNumbers.Message);

        var otherKeyCount = Assert.ThrowsAny<Exception>(() => SequenceColumn.Keys("KeyVector", 6).CheckMatches(s_ectx, schema));
        Assert.Contains("expected a vector of keys with 6 keys (as in the training data)", otherKeyCount.Message);
    }
}
