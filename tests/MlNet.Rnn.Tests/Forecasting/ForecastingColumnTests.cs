using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests.Forecasting;

/// <summary>An observation with a fixed-size vector feature and two scalar features.</summary>
public sealed class FeatureRow
{
    public float Value { get; set; }

    [VectorType(2)]
    public float[] V { get; set; } = new float[2];

    public float A { get; set; }
    public float B { get; set; }
}

/// <summary>Columns a forecaster cannot read: a Double, a fixed-size Single vector, a variable-size Single vector, a Double vector.</summary>
public sealed class MistypedRow
{
    public float Value { get; set; }
    public double Number { get; set; }

    [VectorType(2)]
    public float[] Pair { get; set; } = new float[2];

    public float[] Ragged { get; set; } = [0f, 0f];

    [VectorType(2)]
    public double[] Doubles { get; set; } = new double[2];
}

/// <summary>
/// The columns a forecaster reads: scalar and fixed-size vector exogenous features are read in the order given, step-major, and
/// reach the network exactly as the core's own <c>Forecast</c> takes them; a NaN is named by row, column and vector element; a
/// missing or mistyped series or feature column is refused by role, name and type when fitting and at the schema shape.
/// </summary>
public sealed class ForecastingColumnTests
{
    private const int W = 4;
    private static readonly MLContext s_mlContext = new(seed: 1);

    /// <summary>A sine series whose features are known functions of the step.</summary>
    public static FeatureRow[] Rows(int count, int start = 0) => [.. Enumerable.Range(start, count).Select(n => new FeatureRow
    {
        Value = (float)Math.Sin(2 * Math.PI * n / 12),
        V = [(float)Math.Cos(2 * Math.PI * n / 12), 0.1f * (n % 5)],
        A = (n % 3) - 1f,
        B = 0.5f * (float)Math.Sin(n),
    })];

    /// <summary>A tiny forecaster of <see cref="FeatureRow"/> with the vector column first, then the two scalars.</summary>
    public static RecurrentForecastingEstimator Estimator(MLContext mlContext, string[]? exogenous = null) =>
        mlContext.Forecasting.ForecastByGru(new RecurrentForecastingEstimator.Options
        {
            InputColumnName = nameof(FeatureRow.Value), ExogenousColumnNames = exogenous ?? ["V", "A", "B"], WindowSize = W, Horizon = 2,
            HiddenSize = 3, NumberOfEpochs = 2, Seed = 1, MaxDegreeOfParallelism = 1,
        });

    [Theory]
    [InlineData("V,A,B")]
    [InlineData("A,B,V")] // the vector last: its elements are checked within the row's K values
    public void ScalarAndVectorFeaturesReachTheNetworkInTheGivenOrder_AsTheCoreForecastsThem(string columns)
    {
        string[] order = columns.Split(',');
        var model = Estimator(s_mlContext, order).Fit(s_mlContext.Data.LoadFromEnumerable(Rows(40)));
        Assert.Equal(4, model.Forecaster.ExogenousFeatures);

        var future = Rows(10, start: 40);
        float[][] forecasts = [.. model.Transform(s_mlContext.Data.LoadFromEnumerable(future)).GetColumn<float[]>("Forecast")];
        float[] values = [.. future.Select(row => row.Value)];
        // Step-major [N, K]: each column's values in the given order, the vector's two in place.
        float[] exogenous = [.. future.SelectMany(row => order.SelectMany(name => name switch { "V" => row.V, "A" => new[] { row.A }, _ => new[] { row.B } }))];
        for (int r = W - 1; r < future.Length; r++)
        {
            int first = r - W + 1;
            var expected = model.Forecaster.Forecast(values.AsSpan(first, W), exogenous.AsSpan(4 * first, 4 * W));
            Assert.Equal(expected.Values, forecasts[r]);
        }
    }

    [Fact]
    public void ANaNFeatureIsAnErrorNamingTheRowTheColumnAndTheVectorElement()
    {
        var vector = Rows(30);
        vector[5].V[1] = float.NaN;
        var inVector = Assert.Throws<InvalidOperationException>(() => Estimator(s_mlContext).Fit(s_mlContext.Data.LoadFromEnumerable(vector)));
        Assert.StartsWith("Row 5 of column 'V[1]' is NaN;", inVector.Message);

        var scalar = Rows(30);
        scalar[7].B = float.NaN;
        var inScalar = Assert.Throws<InvalidOperationException>(() => Estimator(s_mlContext).Fit(s_mlContext.Data.LoadFromEnumerable(scalar)));
        Assert.StartsWith("Row 7 of column 'B' is NaN;", inScalar.Message);
    }

    [Fact]
    public void AMissingOrMistypedColumnIsRefusedByRoleNameAndType_WhenFittingAndAtTheSchemaShape()
    {
        var data = s_mlContext.Data.LoadFromEnumerable(new[] { new MistypedRow(), new MistypedRow() });
        var shape = ShapeOf(data.Schema);
        RecurrentForecastingEstimator Forecaster(string input, params string[] exogenous) =>
            s_mlContext.Forecasting.ForecastByLstm("Forecast", input, windowSize: 1, horizon: 1, exogenousColumnNames: exogenous, hiddenSize: 2, numberOfEpochs: 1);
        // The shape and the schema describe a type in their own words; the role, the column and the expectation are the same.
        void Refused(string expected, string atShape, string atSchema, string input, params string[] exogenous)
        {
            Assert.Contains(expected + atShape, Assert.Throws<ArgumentOutOfRangeException>(() => Forecaster(input, exogenous).GetOutputSchema(shape)).Message);
            Assert.Contains(expected + atSchema, Assert.Throws<ArgumentOutOfRangeException>(() => { Forecaster(input, exogenous).Fit(data); }).Message);
        }
        const string Exogenous = "expected Single or a fixed-size vector of Single, got ";

        Refused("Could not find input column 'Nope'", "", "", "Nope");
        Refused("Schema mismatch for input column 'Number': expected Single, got Double", "", "", "Number");
        Refused("Schema mismatch for input column 'Pair': expected Single, got ", "Vector<Single>", "Vector<Single, 2>", "Pair");
        Refused("Could not find exogenous feature column 'Nope'", "", "", "Value", "Pair", "Nope");
        Refused("Schema mismatch for exogenous feature column 'Number': " + Exogenous, "Double", "Double", "Value", "Number");
        Refused("Schema mismatch for exogenous feature column 'Ragged': " + Exogenous, "VarVector<Single>", "Vector<Single>", "Value", "Ragged");
        Refused("Schema mismatch for exogenous feature column 'Doubles': " + Exogenous, "Vector<Double>", "Vector<Double, 2>", "Value", "Doubles");

        var output = Forecaster("Value", "Pair").GetOutputSchema(shape);
        var forecast = Assert.Single(output, column => column.Name == "Forecast");
        Assert.Equal((SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false), (forecast.Kind, forecast.ItemType, forecast.IsKey));
        Assert.DoesNotContain(output, column => column.Name == "ForecastLower");
        var withBounds = s_mlContext.Forecasting.ForecastByLstm("Forecast", "Value", 1, 1, confidenceLowerBoundColumn: "Low", confidenceUpperBoundColumn: "High")
            .GetOutputSchema(shape);
        Assert.Equal(["Doubles", "Forecast", "High", "Low", "Number", "Pair", "Ragged", "Value"], withBounds.Select(c => c.Name).Order(StringComparer.Ordinal));
        var high = Assert.Single(withBounds, column => column.Name == "High");
        Assert.Equal((SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single), (high.Kind, high.ItemType));
    }

    // SchemaShape.Create is internal; ML.NET's own tests call it the same way.
    private static SchemaShape ShapeOf(DataViewSchema schema) => (SchemaShape)typeof(SchemaShape)
        .GetMethod("Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.Invoke(null, [schema])!;
}
