// Serving a recurrent model behind an ASP.NET Core minimal API, the way Microsoft.Extensions.ML's PredictionEnginePool
// serves ML.NET models: one loaded model, a pool of prediction engines, and the model file swapped while serving.
//
//   dotnet run -c Release --project examples/Serving                          # serve (trains and saves a model first if none)
//   curl -s localhost:5000/predict -H 'Content-Type: application/json' -d '{"text":"the battery is great"}'
//   curl -s -X POST localhost:5000/model/reload                              # after replacing the model file
//   dotnet run -c Release --project examples/Serving -- --load-test 10       # the load test, 10 s per level (BENCHMARKS.md)
//
// The model: TokenizeIntoWords → MapValueToKey → Lstm on short generated product reviews whose label is the sentiment
// word they hold. The load test serves it on a local port and drives it with 1, 8 and 32 concurrent HTTP clients, while
// another task replaces the model file by a second model (another seed) and reloads it every 250 ms; every answer must equal,
// bit for bit, the single-threaded answer of the model version that gave it. It prints requests per second and the
// median and 99th-percentile latency per level, and exits 1 on any mismatch or failed request.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlNet.Rnn;
using Serving;

var mlContext = new MLContext(seed: 1);
int loadTest = Array.IndexOf(args, "--load-test");
if (loadTest >= 0)
{
    int seconds = loadTest + 1 < args.Length ? int.Parse(args[loadTest + 1], CultureInfo.InvariantCulture) : 10;
    return await LoadTest.RunAsync(mlContext, seconds);
}

int modelArgument = Array.IndexOf(args, "--model");
string modelPath = modelArgument >= 0 ? args[modelArgument + 1] : Path.Combine(AppContext.BaseDirectory, "review-model.zip");
if (!File.Exists(modelPath))
{
    Console.WriteLine($"No model at {modelPath}: training one on generated reviews.");
    Reviews.TrainAndSave(mlContext, seed: 1, modelPath);
}
var app = Service.Create(mlContext, modelPath, args);
await app.RunAsync();
return 0;

/// <summary>The service: <c>POST /predict</c>, <c>POST /model/reload</c>, <c>GET /model</c>.</summary>
public static class Service
{
    public static WebApplication Create(MLContext mlContext, string modelPath, string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(new ModelPool<Review, ReviewPrediction>(mlContext, modelPath));
        var app = builder.Build();
        app.MapPost("/predict", (ReviewRequest request, ModelPool<Review, ReviewPrediction> pool) =>
        {
            if (string.IsNullOrWhiteSpace(request.Text)) return Results.BadRequest("Give a non-empty 'text'.");
            var (prediction, version) = pool.Predict(new Review { Text = request.Text });
            return Results.Ok(new ReviewResponse(prediction.Probability, prediction.PredictedLabel, version));
        });
        app.MapPost("/model/reload", (ModelPool<Review, ReviewPrediction> pool) => Results.Ok(new { version = pool.Reload() }));
        app.MapGet("/model", (ModelPool<Review, ReviewPrediction> pool) => Results.Ok(new { version = pool.Current.Number, path = modelPath }));
        return app;
    }
}

public sealed record ReviewRequest(string Text);

public sealed record ReviewResponse(float Probability, bool Positive, int ModelVersion);

/// <summary>A review.</summary>
public sealed class Review
{
    public string Text { get; set; } = "";

    public bool Label { get; set; }
}

/// <summary>What the binary model adds.</summary>
public sealed class ReviewPrediction
{
    public float Probability { get; set; }

    public bool PredictedLabel { get; set; }
}

/// <summary>Generated reviews and the model trained on them.</summary>
public static class Reviews
{
    private static readonly string[] Positive = ["good", "great", "fine", "lovely", "excellent"], Negative = ["bad", "awful", "poor", "broken", "useless"];
    private static readonly string[] Filler = ["the", "phone", "battery", "screen", "was", "is", "very", "really", "case", "sound", "and", "this", "my"];

    /// <summary><paramref name="count"/> reviews of 3 to 9 words, one of them a sentiment word that gives the label.</summary>
    public static Review[] Generate(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            bool positive = random.Next(2) == 0;
            var words = Enumerable.Range(0, random.Next(2, 9)).Select(_ => Filler[random.Next(Filler.Length)]).ToList();
            words.Insert(random.Next(words.Count + 1), (positive ? Positive : Negative)[random.Next(5)]);
            return new Review { Text = string.Join(' ', words), Label = positive };
        })];
    }

    public static void TrainAndSave(MLContext mlContext, int seed, string path)
    {
        var data = mlContext.Data.LoadFromEnumerable(Generate(800, seed));
        var model = mlContext.Transforms.Text.TokenizeIntoWords("Tokens", nameof(Review.Text))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Tokens"))
            .Append(mlContext.BinaryClassification.Trainers.Lstm(new RecurrentBinaryTrainer.Options
            {
                FeatureColumnName = "Tokens", EmbeddingSize = 16, HiddenSize = 16, NumberOfEpochs = 8, LearningRate = 0.01f, Seed = seed,
                Bidirectional = false, Readout = MlNet.Rnn.Core.Models.SequenceReadout.LastStep, // one direction, final states, as when BENCHMARKS.md's serving numbers were measured
            }))
            .Fit(data);
        mlContext.Model.Save(model, data.Schema, path);
    }
}

/// <summary>The load test: 1, 8 and 32 concurrent clients against the running service while the model is swapped.</summary>
public static class LoadTest
{
    public static async Task<int> RunAsync(MLContext mlContext, int seconds)
    {
        string folder = Directory.CreateTempSubdirectory("mlnet-rnn-serving-").FullName;
        try
        {
            string[] models = [Path.Combine(folder, "a.zip"), Path.Combine(folder, "b.zip")];
            Reviews.TrainAndSave(mlContext, seed: 1, models[0]);
            Reviews.TrainAndSave(mlContext, seed: 2, models[1]);
            string served = Path.Combine(folder, "served.zip");
            File.Copy(models[0], served);

            // The single-threaded answers of both models: version n serves model (n − 1) mod 2 (the swapper alternates).
            string[] texts = [.. Reviews.Generate(64, seed: 3).Select(review => review.Text)];
            float[][] expected = [.. models.Select(path =>
            {
                var engine = mlContext.Model.CreatePredictionEngine<Review, ReviewPrediction>(mlContext.Model.Load(path, out _));
                return texts.Select(text => engine.Predict(new Review { Text = text }).Probability).ToArray();
            })];
            if (expected[0].SequenceEqual(expected[1])) throw new InvalidOperationException("The two models answer alike; the swap would go unseen.");

            await using var app = Service.Create(mlContext, served, ["--urls", "http://127.0.0.1:0"]);
            await app.StartAsync();
            string address = app.Urls.First();
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(address) };
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Serving at {address}; {seconds} s per level; {Environment.ProcessorCount} cores; the model file swapped and reloaded every 250 ms."));
            Console.WriteLine("| concurrent clients | requests | requests/s | p50 | p99 | model swaps | answers from either model, checked | failures |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
            int version = 1, failures = 0;
            foreach (int clients in new[] { 1, 8, 32 })
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
                int swaps = 0;
                var swapper = Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        await Task.Delay(250);
                        File.Copy(models[version % 2], served, overwrite: true);
                        var reply = await http.PostAsync("/model/reload", null);
                        reply.EnsureSuccessStatusCode();
                        version++;
                        swaps++;
                    }
                });
                var results = await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
                {
                    var latencies = new List<double>();
                    int mismatched = 0, failed = 0, seen = 0;
                    var random = new Random(client);
                    while (!stop.IsCancellationRequested)
                    {
                        int text = random.Next(texts.Length);
                        long start = Stopwatch.GetTimestamp();
                        try
                        {
                            var reply = await http.PostAsJsonAsync("/predict", new ReviewRequest(texts[text]));
                            var answer = await reply.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<ReviewResponse>();
                            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                            if (answer!.Probability != expected[(answer.ModelVersion - 1) % 2][text]) mismatched++;
                            seen |= 1 << ((answer.ModelVersion - 1) % 2);
                        }
                        catch (HttpRequestException)
                        {
                            failed++;
                        }
                    }
                    return (latencies, mismatched, failed, seen);
                })));
                await swapper;
                var all = results.SelectMany(r => r.latencies).Order().ToArray();
                int mismatches = results.Sum(r => r.mismatched), failed = results.Sum(r => r.failed);
                bool bothModels = results.Aggregate(0, (seen, r) => seen | r.seen) == 3;
                failures += mismatches + failed + (bothModels ? 0 : 1);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {clients} | {all.Length:N0} | {all.Length / (double)seconds:N0} | {Percentile(all, 0.50):F2} ms | {Percentile(all, 0.99):F2} ms | {swaps} | " +
                    $"{(bothModels ? "both" : "one only")}, {mismatches} mismatched | {failed} |"));
            }
            await app.StopAsync();
            Console.WriteLine(failures == 0 ? "Every answer matched its model's single-threaded answer." : $"{failures} failures.");
            return failures == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(p * sorted.Length) - 1)];
}
