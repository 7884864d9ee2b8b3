// A character-level LSTM language model learns Moby-Dick: truncated BPTT over parallel streams of the text with the
// state carried between chunks, Adam, gradient clipping, dropout, a cosine learning-rate decay over a time budget. It reports the held-out bits
// per character of the book's last 5% and prints samples at several temperatures.
// Fetch the data once:  examples/data/fetch.sh moby-dick
// Run:                  dotnet run --project examples/MobyDickGeneration -c Release [-- --minutes 11] [--hidden 512] [--layers 1] [--streams 32] [--chunk 64] [--rate 0.005] [--dropout 0.2] [--save file]
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.LanguageModeling;
using MlNet.Rnn.Core.Training;

double minutes = Option("--minutes", 11);
int hidden = (int)Option("--hidden", 512), layers = (int)Option("--layers", 1), streams = (int)Option("--streams", 32), chunk = (int)Option("--chunk", 64);
float rate = (float)Option("--rate", 5e-3), dropout = (float)Option("--dropout", 0.2);
string? save = OptionText("--save");

string cache = Environment.GetEnvironmentVariable("MLNET_RNN_DATA") ?? Path.Combine(RepositoryRoot(), "examples", "data", "cache");
string path = Path.Combine(cache, "moby-dick", "data.txt");
if (!File.Exists(path))
{
    Console.Error.WriteLine($"{path} is missing; fetch it with: examples/data/fetch.sh moby-dick");
    return 1;
}
string book = File.ReadAllText(path).Replace("\r\n", "\n");

// The first 90% trains, the next 5% validates (early stopping, learning-rate decay), the last 5% is the held-out test.
int trainEnd = (int)(book.Length * 0.90), validationEnd = (int)(book.Length * 0.95);
string training = book[..trainEnd], validation = book[trainEnd..validationEnd], test = book[validationEnd..];
var vocabulary = Vocabulary.FromCharacters(training);

using var loggerFactory = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }));
var model = new LanguageModel(vocabulary, LanguageModel.DefaultOptions(vocabulary) with
{
    EmbeddingSize = 64, HiddenSize = hidden, Layers = layers, Dropout = dropout, Seed = 1,
});
Console.WriteLine($"{layers}-layer LSTM, H = {hidden}, {model.Model.Parameters.Count:N0} parameters, V = {vocabulary.Count} characters; " +
    $"{training.Length:N0} training, {validation.Length:N0} validation, {test.Length:N0} test characters; time budget {minutes} min");

var clock = Stopwatch.StartNew();
var history = model.Train(training, validation, new LanguageModelTrainingOptions
{ Training = LanguageModelTrainingOptions.DefaultTraining with { Epochs = 100, BatchSize = streams, LearningRate = rate, GradientClipNorm = 5f, Schedule = ScheduleKind.Cosine, MinimumLearningRate = rate / 20, ReduceOnPlateau = true, PlateauPatience = 0, EarlyStoppingPatience = 3, MaxTrainingTime = TimeSpan.FromMinutes(minutes), Seed = 1, Logger = loggerFactory.CreateLogger("MobyDick") }, ChunkSteps = chunk });
var trainingTime = clock.Elapsed;
clock.Restart();
var metrics = model.Evaluate(test);
Console.WriteLine($"trained {history.Epochs.Count} epochs in {trainingTime:mm\\:ss} (best epoch {history.BestEpoch}); " +
    $"scoring the test text took {clock.Elapsed.TotalSeconds:F1} s");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"held-out test: {metrics.BitsPerToken:F3} bits per character, perplexity {metrics.Perplexity:F2} over {metrics.TokenCount:N0} characters (target ≤ 2.0)"));
if (save is not null) model.Save(save);

foreach (var (prompt, temperature) in new[] { ("", 0f), ("Call me ", 0.5f), ("The whale ", 0.8f), ("", 1.0f) })
{
    string text = model.Generate(prompt, maxLength: 300, temperature: temperature, topK: temperature == 0 ? 0 : 20, seed: 7);
    Console.WriteLine();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"--- temperature {temperature}, prompt \"{prompt}\" ---"));
    Console.WriteLine(prompt + text);
}
return 0;

double Option(string name, double fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? double.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

string? OptionText(string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

static string RepositoryRoot()
{
    for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        if (File.Exists(Path.Combine(folder.FullName, "MlNet.Rnn.sln"))) return folder.FullName;
    return Directory.GetCurrentDirectory();
}

// The run of 2026-11-27 on this project's 2-core machine, shared with other engineers' builds and runs (load average 4.5–7;
// 19,000–32,000 characters/s); 11:07 wall time, 11:01 of training. Timestamps trimmed, the middle epochs elided:
// 1-layer LSTM, H = 512, 1,233,366 parameters, V = 86 characters; 1,071,285 training, 59,516 validation, 59,516 test characters; time budget 11 min
// Epoch 1: training 2.8133 bits/token, validation 2.3978 bits/token, gradient norm 0.251, learning rate 0.00496, 27164 tokens/s, 00:00:39 elapsed, 00:10:20 left
// Epoch 2: training 2.3277 bits/token, validation 2.2303 bits/token, gradient norm 0.189, learning rate 0.00484, 27767 tokens/s, 00:01:18 elapsed, 00:09:41 left
// ...
// Epoch 14: training 1.7881 bits/token, validation 2.0091 bits/token, gradient norm 0.177, learning rate 0.000433, 31156 tokens/s, 00:09:37 elapsed, 00:01:22 left
// Epoch 15: training 1.7757 bits/token, validation 2.0077 bits/token, gradient norm 0.178, learning rate 0.000316, 31898 tokens/s, 00:10:10 elapsed, 00:00:49 left
// Epoch 16: training 1.7671 bits/token, validation 2.0077 bits/token, gradient norm 0.179, learning rate 0.000252, 26328 tokens/s, 00:10:51 elapsed, 00:00:08 left
// Validation loss has not improved: learning rate 0.005 → 0.0025.
// Epoch 17: training 1.7626 bits/token, validation 2.0080 bits/token, gradient norm 0.180, learning rate 0.00025, 18740 tokens/s, 00:11:00 elapsed, 00:00:00 left
// Validation loss has not improved: learning rate 0.0025 → 0.00125.
// Training time limit 00:11:00 reached during epoch 17.
// Restored the weights of epoch 15, the best validation loss.
// trained 17 epochs in 11:01 (best epoch 15); scoring the test text took 3.8 s
// held-out test: 1.991 bits per character, perplexity 3.97 over 59,516 characters (target ≤ 2.0)
//
// --- temperature 0, prompt "" ---
// D408049ware of the sea, and the ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship was a ship
//
// --- temperature 0.5, prompt "Call me " ---
// Call me that sound me in the case for a ship, and there they did not seem to me where a ship so as to be valuable to the sea; and when the whales so far in the whale are so with a sign of the same considerable contrasting and the whale and the boats to the sea of the whale below. The one ship is at the deck
//
// --- temperature 0.8, prompt "The whale " ---
// The whale it is, means out of a sort
// of boat which we at times from his boat, as an instant they have the
// sying and silent strength where so as to be his neck with which the level he pursuing on a calm that pay one season but the air, and to be so are every one he had presents at least cruising for far our ow
//
// --- temperature 1, prompt "" ---
// L2” ed nigh the ground in various steado, and
// devil born of my soul, for one on the pumps to the Physea fish, the starboard house be involuntarily enjoy have heard it us to before much bodily part at
// the corner or the cheerful whale, and was dropping his ship
// from the Porpoise-harpoon.
//
// Southered th
