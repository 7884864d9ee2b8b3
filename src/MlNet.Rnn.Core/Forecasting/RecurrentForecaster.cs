using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Persistence;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Core.Forecasting;

/// <summary>
/// Forecasts the next HZ values of a series from its last W observations (and K exogenous features observed with them), all
/// at once: a many-to-one <see cref="SequenceModel"/> reads the window <c>[W, 1 + K]</c> of standardised values and its head
/// gives <c>ŷ[HZ]</c> (direct multi-output forecasting; <c>OutputSize = HZ</c>), trained with mean squared error.
/// </summary>
/// <remarks>
/// <para>Why direct rather than recursive (one step, fed back HZ times): errors do not compound through fed-back
/// forecasts, a forecast is one forward pass, training optimises exactly the quantity used, and exogenous features never
/// need forecasting themselves (a recursive model would need their future values).</para>
/// <para>Fitting: the last <see cref="ForecasterOptions.CalibrationFraction"/> of the series (at least HZ observations) is held
/// out; standardisation <c>z = (x − μ)/s</c> per feature is fitted on the rest, the model trains on every window whose future
/// lies in the rest, and the windows whose future lies in the held-out tail give residuals <c>r = actual − forecast</c> per
/// horizon step, from which <see cref="ForecasterOptions.IntervalMethod"/> makes the bounds. Then, with
/// <see cref="ForecasterOptions.RefitOnFullSeries"/> (the default), the final model is trained again on every window. When
/// <see cref="TrainerOptions.EarlyStoppingPatience"/> is set, the same windows are the validation data, which makes the bounds
/// slightly optimistic.</para>
/// <para><see cref="Forecast(ReadOnlySpan{float}, ReadOnlySpan{float})"/> uses the forecaster's own buffers: one caller at a time.
/// A <see cref="ForecastEngine"/> carries the latest window and forecasts again as observations arrive, without refitting, in a
/// workspace of its own: any number of engines may forecast with one forecaster at once, none copies the model.</para>
/// </remarks>
public sealed class RecurrentForecaster
{
    private const int BatchSize = 256;
    private static readonly JsonSerializerOptions s_json = new() { Converters = { new JsonStringEnumConverter() } };
    private readonly float[] _lowerOffsets, _upperOffsets, _window, _windowExogenous;
    private readonly SequenceBatch _batch = new();
    private float[] _output = [];

    private RecurrentForecaster(ForecasterOptions options, SequenceModel model, Standardization scaling, float[] lowerOffsets, float[] upperOffsets,
        float[] window, float[] windowExogenous, int calibrationWindows, TrainingHistory? history)
    {
        Options = options;
        Model = model;
        Scaling = scaling;
        _lowerOffsets = lowerOffsets;
        _upperOffsets = upperOffsets;
        _window = window;
        _windowExogenous = windowExogenous;
        CalibrationWindows = calibrationWindows;
        History = history;
    }

    /// <summary>The options the forecaster was fitted with (after <see cref="Load(string)"/>: the saved ones, default training options).</summary>
    public ForecasterOptions Options { get; }

    /// <summary>W.</summary>
    public int WindowSize => Options.WindowSize;

    /// <summary>HZ.</summary>
    public int Horizon => Options.Horizon;

    /// <summary>K.</summary>
    public int ExogenousFeatures => Options.ExogenousFeatures;

    /// <summary>The many-to-one model: <c>[W, 1 + K]</c> standardised → <c>[HZ]</c> standardised.</summary>
    public SequenceModel Model { get; }

    /// <summary>μ and s of the series (feature 0) and of each exogenous feature, fitted on the training part.</summary>
    public Standardization Scaling { get; }

    /// <summary>Added to a forecast to give its lower bound, per horizon step (series units).</summary>
    public IReadOnlyList<float> LowerOffsets => _lowerOffsets;

    /// <summary>Added to a forecast to give its upper bound, per horizon step (series units).</summary>
    public IReadOnlyList<float> UpperOffsets => _upperOffsets;

    /// <summary>Held-out windows whose residuals made the bounds (0: in-sample residuals).</summary>
    public int CalibrationWindows { get; }

    /// <summary>The training run of the final model (the refit when <see cref="ForecasterOptions.RefitOnFullSeries"/>), or null for a loaded forecaster.</summary>
    public TrainingHistory? History { get; }

    /// <summary>
    /// Fits a forecaster to <paramref name="series"/> <c>[N]</c>, with <paramref name="exogenous"/> <c>[N, K]</c> (step-major)
    /// when <see cref="ForecasterOptions.ExogenousFeatures"/> is K &gt; 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid, e.g. a horizon of 0.</exception>
    /// <exception cref="ArgumentException">The series is shorter than W + HZ (or leaves too little for training after the
    /// held-out tail), holds a NaN or infinity (the message names its index and value), or the exogenous values do not fit.</exception>
    public static RecurrentForecaster Fit(ReadOnlySpan<float> series, ForecasterOptions options, ReadOnlySpan<float> exogenous = default,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int N = series.Length, W = options.WindowSize, HZ = options.Horizon, K = options.ExogenousFeatures, F = 1 + K;
        CheckFinite(series, exogenous, K, nameof(series));
        if (N < W + HZ)
            throw new ArgumentException(
                $"The series has {N} observations; windowSize {W} + horizon {HZ} = {W + HZ} are needed at least (one window and its future).", nameof(series));
        int held = options.CalibrationFraction > 0 ? Math.Max(HZ, (int)Math.Round(options.CalibrationFraction * N)) : 0;
        if (N - held < W + HZ)
            throw new ArgumentException(
                $"The series has {N} observations; CalibrationFraction {options.CalibrationFraction} holds out the last {held} for the confidence bounds, " +
                $"leaving {N - held} for training where windowSize {W} + horizon {HZ} = {W + HZ} are needed. Give a longer series, a smaller window, " +
                "or CalibrationFraction 0.", nameof(series));

        int trainingLength = N - held;
        var standardized = new float[N * F];
        for (int n = 0; n < N; n++)
        {
            standardized[n * F] = series[n];
            if (K > 0) exogenous.Slice(n * K, K).CopyTo(standardized.AsSpan(n * F + 1, K));
        }
        var scaling = Standardization.Fit(standardized.AsSpan(0, trainingLength * F), F);
        for (int i = 0; i < standardized.Length; i++) standardized[i] = scaling.Apply(standardized[i], i % F);

        // A window ending before step j forecasts steps [j, j + HZ): training windows have j + HZ ≤ N − held, held-out ones j ≥ N − held.
        long budget = options.TrainingDataMemoryMegabytes * (1L << 20);
        var training = new SeriesWindows(standardized, F, W, HZ, W, trainingLength - HZ, budget);
        var calibration = held > 0 ? new SeriesWindows(standardized, F, W, HZ, Math.Max(W, trainingLength), N - HZ, budget) : null;

        var modelOptions = new SequenceModelOptions
        {
            Cell = options.Cell, FeaturesPerStep = F, HiddenSize = options.HiddenSize, Layers = options.Layers, Dropout = options.Dropout,
            OutputSize = HZ, Readout = SequenceReadout.LastStep, Seed = options.Seed, MaxDegreeOfParallelism = options.MaxDegreeOfParallelism,
        };
        var model = new SequenceModel(modelOptions);
        var history = new SequenceTrainer(model, new MeanSquaredError(), options.Training).Train(training, calibration, cancellationToken);

        var window = series.Slice(N - W, W).ToArray();
        var windowExogenous = K > 0 ? exogenous.Slice((N - W) * K, W * K).ToArray() : [];
        var forecaster = new RecurrentForecaster(options, model, scaling, new float[HZ], new float[HZ], window, windowExogenous,
            (int)(calibration?.ExampleCount ?? 0), history);
        var (lower, upper) = ForecastIntervals.Offsets(forecaster.Residuals(calibration ?? training), HZ, options.ConfidenceLevel, options.IntervalMethod);
        if (calibration is null || !options.RefitOnFullSeries)
        {
            lower.CopyTo(forecaster._lowerOffsets, 0);
            upper.CopyTo(forecaster._upperOffsets, 0);
            return forecaster;
        }

        // The final model: the same shape and seeds, trained on every window, for the epochs the first fit kept.
        var refit = new SequenceModel(modelOptions);
        var refitOptions = options.Training with
        {
            Epochs = Math.Max(1, history.BestEpoch), EarlyStoppingPatience = 0, ReduceOnPlateau = false, CheckpointEvery = 0,
        };
        var refitHistory = new SequenceTrainer(refit, new MeanSquaredError(), refitOptions).Train(new SeriesWindows(standardized, F, W, HZ, W, N - HZ, budget), null,
            cancellationToken);
        return new RecurrentForecaster(options, refit, scaling, lower, upper, window, windowExogenous, (int)calibration.ExampleCount, refitHistory);
    }

    /// <summary>
    /// Forecasts the HZ values that follow <paramref name="recent"/> (at least W observations; the last W are read), with
    /// <paramref name="recentExogenous"/> <c>[recent.Length, K]</c> when K &gt; 0.
    /// </summary>
    public Forecast Forecast(ReadOnlySpan<float> recent, ReadOnlySpan<float> recentExogenous = default)
    {
        int W = WindowSize, K = ExogenousFeatures;
        CheckFinite(recent, recentExogenous, K, nameof(recent));
        if (recent.Length < W)
            throw new ArgumentException($"{recent.Length} recent observations were given; the forecaster reads windows of {W}.", nameof(recent));
        int skip = recent.Length - W;
        return ForecastWindow(recent.Slice(skip), K > 0 ? recentExogenous.Slice(skip * K) : default);
    }

    /// <summary>An engine that starts from the end of the fitted (or checkpointed) series.</summary>
    public ForecastEngine CreateEngine() => new(this, (float[])_window.Clone(), (float[])_windowExogenous.Clone());

    /// <summary>Writes the forecaster (model, scaling, bounds, options and the latest window) to a model file, atomically.</summary>
    public void Save(string path) => Save(path, _window, _windowExogenous);

    /// <summary>Writes the forecaster to a stream.</summary>
    public void Save(Stream stream) => Save(stream, _window, _windowExogenous);

    /// <summary>Reads a forecaster written by <see cref="Save(string)"/> or <see cref="ForecastEngine.CheckPoint(string)"/>.</summary>
    public static RecurrentForecaster Load(string path) => FromContents(ModelFile.Read(path, requireModelFormat: true, ModelFile.CheckpointState));

    /// <summary>Reads a forecaster from a stream.</summary>
    public static RecurrentForecaster Load(Stream stream, string? source = null) => FromContents(ModelFile.Read(stream, requireModelFormat: true, source, ModelFile.CheckpointState));

    internal Forecast ForecastWindow(ReadOnlySpan<float> window, ReadOnlySpan<float> windowExogenous)
    {
        _batch.Reset(1, WindowSize, 1 + ExogenousFeatures, Horizon, perStepTargets: false);
        Standardize(window, windowExogenous, _batch.Input);
        _batch.Lengths[0] = WindowSize;
        return ToForecast(Run());
    }

    /// <summary>The model's input <c>[W, 1 + K]</c>: each observation and its exogenous features, standardised.</summary>
    internal void Standardize(ReadOnlySpan<float> window, ReadOnlySpan<float> windowExogenous, Span<float> steps)
    {
        int W = WindowSize, K = ExogenousFeatures, F = 1 + K;
        for (int t = 0; t < W; t++)
        {
            steps[t * F] = Scaling.Apply(window[t], 0);
            for (int k = 0; k < K; k++) steps[t * F + 1 + k] = Scaling.Apply(windowExogenous[t * K + k], 1 + k);
        }
    }

    /// <summary>The forecast <c>[HZ]</c> in series units and its bounds, from the model's standardised output <c>[HZ]</c>.</summary>
    internal void Unstandardize(ReadOnlySpan<float> output, Span<float> values, Span<float> lower, Span<float> upper)
    {
        for (int h = 0; h < Horizon; h++)
        {
            values[h] = Scaling.Invert(output[h], 0);
            lower[h] = values[h] + _lowerOffsets[h];
            upper[h] = values[h] + _upperOffsets[h];
        }
    }

    /// <summary>The forecast of the model's standardised output <c>[HZ]</c>.</summary>
    internal Forecast ToForecast(ReadOnlySpan<float> output)
    {
        int HZ = Horizon;
        var values = new float[HZ];
        var lower = new float[HZ];
        var upper = new float[HZ];
        Unstandardize(output, values, lower, upper);
        return new Forecast(values, lower, upper, Options.ConfidenceLevel);
    }

    internal static void CheckFinite(ReadOnlySpan<float> series, ReadOnlySpan<float> exogenous, int features, string name)
    {
        for (int i = 0; i < series.Length; i++)
            if (!float.IsFinite(series[i]))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Observation {i} of the series is {series[i]}; every observation must be a finite number (fill or drop missing values first)."), name);
        if (features == 0)
        {
            if (!exogenous.IsEmpty)
                throw new ArgumentException($"{exogenous.Length} exogenous values were given but ExogenousFeatures is 0; set it to the features per observation.",
                    nameof(exogenous));
            return;
        }
        if (exogenous.Length != series.Length * features)
            throw new ArgumentException(
                $"The exogenous values hold {exogenous.Length} floats; {series.Length} observations × {features} features = {series.Length * features} are needed (step-major).",
                nameof(exogenous));
        for (int i = 0; i < exogenous.Length; i++)
            if (!float.IsFinite(exogenous[i]))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Exogenous feature {i % features} of observation {i / features} is {exogenous[i]}; every value must be finite."), nameof(exogenous));
    }

    /// <summary>r = actual − forecast in series units, <c>[count, HZ]</c>.</summary>
    private float[] Residuals(SeriesWindows windows)
    {
        int HZ = Horizon;
        var residuals = new float[windows.ExampleCount * HZ];
        var buffer = new SequenceDataset(windows.FeaturesPerStep, HZ);
        for (int p = 0; p < windows.PartCount; p++)
        {
            var part = windows.ReadPart(p, buffer);
            foreach (int[] indices in BatchPlanner.Plan(part, BatchSize, random: null, bucketByLength: false))
            {
                part.Fill(indices, _batch);
                Span<float> output = Run();
                ReadOnlySpan<float> targets = _batch.Targets;
                for (int b = 0; b < indices.Length; b++)
                    for (int h = 0; h < HZ; h++)
                        residuals[part.NumberOf(indices[b]) * HZ + h] = Scaling.Invert(targets[b * HZ + h], 0) - Scaling.Invert(output[b * HZ + h], 0);
            }
        }
        return residuals;
    }

    private Span<float> Run()
    {
        int length = _batch.BatchSize * Horizon;
        if (_output.Length < length) _output = new float[length];
        Span<float> output = _output.AsSpan(0, length);
        Model.Forward(_batch, output, training: false);
        return output;
    }

    private const string HeaderKey = "forecaster";
    private const string Prefix = "forecaster.";

    private sealed record FileHeader(int WindowSize, int Horizon, int ExogenousFeatures, float ConfidenceLevel, ForecastIntervalMethod IntervalMethod,
        double CalibrationFraction, bool RefitOnFullSeries, int CalibrationWindows);

    internal void Save(string path, float[] window, float[] windowExogenous)
    {
        var (metadata, tensors) = FileParts(window, windowExogenous);
        ModelFile.Save(path, Model.Parameters, SequenceModelFile.ToJson(Model.Options), metadata, tensors);
    }

    internal void Save(Stream stream, float[] window, float[] windowExogenous)
    {
        var (metadata, tensors) = FileParts(window, windowExogenous);
        ModelFile.Save(stream, Model.Parameters, SequenceModelFile.ToJson(Model.Options), metadata, tensors);
    }

    private (Dictionary<string, string>, List<(string, int[], ReadOnlyMemory<float>)>) FileParts(float[] window, float[] windowExogenous)
    {
        var header = new FileHeader(WindowSize, Horizon, ExogenousFeatures, Options.ConfidenceLevel, Options.IntervalMethod, Options.CalibrationFraction,
            Options.RefitOnFullSeries, CalibrationWindows);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [HeaderKey] = JsonSerializer.Serialize(header, s_json) };
        var tensors = new List<(string, int[], ReadOnlyMemory<float>)>
        {
            (Prefix + "mean", [Scaling.Features], Scaling.Mean.ToArray()),
            (Prefix + "scale", [Scaling.Features], Scaling.Scale.ToArray()),
            (Prefix + "lower_offset", [Horizon], _lowerOffsets),
            (Prefix + "upper_offset", [Horizon], _upperOffsets),
            (Prefix + "window", [WindowSize], window),
        };
        if (ExogenousFeatures > 0) tensors.Add((Prefix + "window_exogenous", [WindowSize, ExogenousFeatures], windowExogenous));
        return (metadata, tensors);
    }

    private static RecurrentForecaster FromContents(ModelFileContents contents)
    {
        string source = contents.Source ?? "The model file";
        if (!contents.Metadata.TryGetValue(HeaderKey, out string? json))
            throw new InvalidDataException($"{source} has no '{HeaderKey}' metadata; it was not written by RecurrentForecaster.Save.");
        FileHeader header;
        try
        {
            header = JsonSerializer.Deserialize<FileHeader>(json, s_json) ?? throw new InvalidDataException($"{source}: the '{HeaderKey}' metadata is empty.");
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"{source}: the '{HeaderKey}' metadata is not valid JSON ({exception.Message}).", exception);
        }
        var options = new ForecasterOptions
        {
            WindowSize = header.WindowSize, Horizon = header.Horizon, ExogenousFeatures = header.ExogenousFeatures, ConfidenceLevel = header.ConfidenceLevel,
            IntervalMethod = header.IntervalMethod, CalibrationFraction = header.CalibrationFraction, RefitOnFullSeries = header.RefitOnFullSeries,
        };
        var modelOptions = SequenceModelFile.FromJson(contents.Configuration
            ?? throw new InvalidDataException($"{source} has no model configuration."), contents.Source);
        options = options with
        {
            Cell = modelOptions.Cell, HiddenSize = modelOptions.HiddenSize, Layers = modelOptions.Layers, Dropout = modelOptions.Dropout, Seed = modelOptions.Seed,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException exception)
        {
            throw new InvalidDataException($"{source}: the forecaster options are invalid: {exception.Message}", exception);
        }
        int F = 1 + options.ExogenousFeatures;
        if (modelOptions.FeaturesPerStep != F || modelOptions.OutputSize != options.Horizon || modelOptions.Readout != SequenceReadout.LastStep)
            throw new InvalidDataException($"{source}: the model reads {modelOptions.FeaturesPerStep} features and gives {modelOptions.OutputSize} outputs " +
                $"({modelOptions.Readout}); the forecaster needs {F} features and {options.Horizon} outputs (LastStep).");
        var model = ModelFile.BuildFromConfiguration(contents, (long)modelOptions.Layers * (modelOptions.Bidirectional ? 2 : 1),
            () => new SequenceModel(modelOptions, initialize: false));
        ModelFile.LoadInto(model.Parameters, contents, requireAll: true, ignorePrefixes: [Prefix]);
        float[] Tensor(string name, int length)
        {
            var tensor = contents.Find(Prefix + name) ?? throw new InvalidDataException($"{source}: tensor '{Prefix + name}' is missing.");
            if (tensor.Data.Length != length)
                throw new InvalidDataException($"{source}: tensor '{Prefix + name}' holds {tensor.Data.Length} values; {length} are expected.");
            return tensor.Data;
        }
        Standardization scaling;
        try
        {
            scaling = new Standardization(Tensor("mean", F), Tensor("scale", F));
        }
        catch (ArgumentException exception)
        {
            throw new InvalidDataException($"{source}: the standardisation is invalid: {exception.Message}", exception);
        }
        float[] window = Tensor("window", options.WindowSize);
        float[] windowExogenous = options.ExogenousFeatures > 0 ? Tensor("window_exogenous", options.WindowSize * options.ExogenousFeatures) : [];
        return new RecurrentForecaster(options, model, scaling, Tensor("lower_offset", options.Horizon), Tensor("upper_offset", options.Horizon),
            window, windowExogenous, header.CalibrationWindows, history: null);
    }
}
