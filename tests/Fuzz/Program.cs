using System.Diagnostics;
using System.Globalization;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Tests.Persistence;
using MlNet.Rnn.Tests.Persistence;

// The fuzzing campaign of model files and saved ML.NET models, and the SharpFuzz harness (TESTING.md, "Fuzzing").
//   campaign [cases] [seed] [zip-cases]: every single-byte change of the header (all 255 of each byte), every truncation,
//       every header lie, then `cases` seeded stacks of random mutations of the model file (half from a forward-only stream)
//       and `zip-cases` of the saved ML.NET model; prints the counts by outcome, the slowest case, the largest allocation and
//       every case that broke the rule (exit code 1 when any did).
//   seeds <folder>: writes the model file and a few mutants as the starting corpus of a coverage-guided run.
//   afl: the SharpFuzz harness; reads one input from AFL, loads it as a model file and scores it. A refusal
//       (InvalidDataException naming the source) is a normal end; any other exception is a crash for AFL to keep.
return args.FirstOrDefault() switch
{
    "campaign" => Campaign.Run(
        args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200_000,
        args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1,
        args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3_000),
    "seeds" when args.Length == 2 => Harness.WriteSeeds(args[1]),
    "afl" => Harness.RunAfl(),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: campaign [cases] [seed] [zip-cases] | seeds <folder> | afl");
    return 2;
}

/// <summary>The campaign: many more cases than the regular tests, with the same mutations and rule, and their statistics.</summary>
internal static class Campaign
{
    /// <summary>A case slower than this breaks the rule (measured twice, so a garbage collection alone does not).</summary>
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(1);

    public static int Run(int cases, int seed, int zipCases)
    {
        var clock = Stopwatch.StartNew();
        var target = ModelFileFuzzTarget.ForSequenceModel();
        var stats = new Statistics();
        var file = target.File;
        Console.WriteLine($"model file: {file.Length} bytes; seed {seed}; {cases:N0} random cases; {zipCases:N0} saved-model cases");

        // Warm up the JIT, so the first cases' times are the loader's.
        for (int i = 0; i < 50; i++) { target.Run(ModelFileMutations.Flip(file, 8 + i, 1), forwardOnly: i % 2 == 1); target.Run(new("original", file), false); }

        var lies = ModelFileMutations.HeaderLies(file).ToList();
        int headerEnd = 8 + ModelFileMutations.Split(file).Header.Length;
        for (int position = 0; position < headerEnd; position++)
            for (int mask = 1; mask < 256; mask++)
            {
                var mutant = ModelFileMutations.Flip(file, position, (byte)mask);
                stats.Add("model file: every header byte changed to every other value", () => target.Run(mutant, forwardOnly: (position + mask) % 2 == 1));
            }
        foreach (var mutant in ModelFileMutations.DataFlips(file, seed).Concat(ModelFileMutations.Truncations(file)).Concat(lies))
        {
            stats.Add("model file: data flips, truncations and header lies", () => target.Run(mutant, forwardOnly: false));
            stats.Add("model file: data flips, truncations and header lies", () => target.Run(mutant, forwardOnly: true));
        }
        var random = new Random(seed);
        for (int i = 0; i < cases; i++)
        {
            var mutant = ModelFileMutations.Random(file, random, lies);
            bool forwardOnly = random.Next(2) == 0;
            stats.Add("model file: random stacked mutations", () => target.Run(mutant, forwardOnly));
        }
        Console.WriteLine($"model file done in {clock.Elapsed.TotalSeconds:F0} s");

        // The other kinds of model file, each through its own loader: the same families, and a tenth as many random stacks.
        foreach (var other in ModelFileFuzzTarget.All().Skip(1))
        {
            var otherLies = ModelFileMutations.HeaderLies(other.File).ToList();
            var (otherHeader, otherData) = ModelFileMutations.Split(other.File);
            Console.WriteLine($"{other.Kind}: {other.File.Length} bytes ({8 + otherHeader.Length} of length and header, {otherData.Length} of data), {otherLies.Count} lies");
            for (int i = 0; i < 20; i++) other.Run(new("original", other.File), forwardOnly: i % 2 == 1);
            int position = 0;
            foreach (var mutant in ModelFileMutations.HeaderFlips(other.File, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80))
                stats.Add($"{other.Kind}: every header bit flipped", () => other.Run(mutant, forwardOnly: position++ % 2 == 1));
            foreach (var mutant in ModelFileMutations.DataFlips(other.File, seed).Concat(ModelFileMutations.Truncations(other.File)).Concat(otherLies))
            {
                stats.Add($"{other.Kind}: data flips, truncations and header lies", () => other.Run(mutant, forwardOnly: false));
                stats.Add($"{other.Kind}: data flips, truncations and header lies", () => other.Run(mutant, forwardOnly: true));
            }
            for (int i = 0; i < cases / 10; i++)
            {
                var mutant = ModelFileMutations.Random(other.File, random, otherLies);
                bool forwardOnly = random.Next(2) == 0;
                stats.Add($"{other.Kind}: random stacked mutations", () => other.Run(mutant, forwardOnly));
            }
            Console.WriteLine($"{other.Kind} done in {clock.Elapsed.TotalSeconds:F0} s");
        }

        var saved = new SavedModelFuzzTarget();
        var zipLies = ModelFileMutations.ZipLies(saved.Zip, flipsPerEntry: 16, seed).ToList();
        var entries = ModelFileMutations.Entries(saved.Zip);
        int network = entries.FindIndex(entry => entry.Name.EndsWith("/SequenceModel.safetensors", StringComparison.Ordinal));
        var networkLies = ModelFileMutations.HeaderLies(entries[network].Bytes).ToList();
        for (int i = 0; i < 3; i++) saved.Run(new("original", saved.Zip));
        foreach (var mutant in zipLies) stats.Add("saved model: zip lies", () => saved.Run(mutant));
        for (int i = 0; i < zipCases; i++)
        {
            Mutant mutant;
            switch (random.Next(3))
            {
                case 0:
                    mutant = ModelFileMutations.Random(saved.Zip, random, zipLies);
                    break;
                case 1:
                    // The network entry mutated as a model file, then zipped again (so the zip's checks pass).
                    var inner = ModelFileMutations.Random(entries[network].Bytes, random, networkLies);
                    mutant = new("network entry: " + inner.Name, ModelFileMutations.Zip(entries.Select((entry, e) => e == network ? (entry.Name, inner.Bytes) : entry)));
                    break;
                default:
                    // Another entry's bytes mutated at random, zipped again.
                    int pick = random.Next(entries.Count);
                    var damaged = ModelFileMutations.Random(entries[pick].Bytes, random, [ModelFileMutations.Truncate(entries[pick].Bytes, 0)]);
                    mutant = new($"{entries[pick].Name}: {damaged.Name}", ModelFileMutations.Zip(entries.Select((entry, e) => e == pick ? (entry.Name, damaged.Bytes) : entry)));
                    break;
            }
            stats.Add("saved model: random stacked mutations", () => saved.Run(mutant));
        }
        clock.Stop();

        stats.Print(clock.Elapsed);
        return stats.Broken.Count == 0 ? 0 : 1;
    }

    private sealed class Statistics
    {
        private readonly SortedDictionary<string, SortedDictionary<string, int>> _byGroup = new(StringComparer.Ordinal);
        private FuzzOutcome? _slowest, _largest;
        private int _count;

        public List<FuzzOutcome> Broken { get; } = [];

        public void Add(string group, Func<FuzzOutcome> run)
        {
            var outcome = run();
            if (outcome.Elapsed > TimeLimit)
            {
                var again = run();
                if (again.Elapsed < outcome.Elapsed) outcome = again;
                if (outcome.Elapsed > TimeLimit && outcome.Problem is null) outcome = outcome with { Problem = $"took {outcome.Elapsed.TotalMilliseconds:F0} ms" };
            }
            _count++;
            if (!_byGroup.TryGetValue(group, out var results)) _byGroup[group] = results = new(StringComparer.Ordinal);
            results[outcome.Result] = results.GetValueOrDefault(outcome.Result) + 1;
            if (_slowest is null || outcome.Elapsed > _slowest.Elapsed) _slowest = outcome;
            if (_largest is null || outcome.AllocatedBytes > _largest.AllocatedBytes) _largest = outcome;
            if (outcome.Problem is not null)
            {
                Broken.Add(outcome);
                if (Broken.Count <= 20) Console.WriteLine($"BROKEN {outcome.Case}: {outcome.Problem}");
            }
        }

        public void Print(TimeSpan elapsed)
        {
            Console.WriteLine($"cases run: {_count:N0} in {elapsed.TotalSeconds:F0} s ({Environment.Version}, {Environment.ProcessorCount} cores)");
            foreach (var (group, results) in _byGroup)
            {
                Console.WriteLine($"  {group}: {results.Values.Sum():N0}");
                foreach (var (result, count) in results.OrderByDescending(r => r.Value)) Console.WriteLine($"    {count,9:N0}  {result}");
            }
            Console.WriteLine($"slowest case: {_slowest!.Elapsed.TotalMilliseconds:F1} ms, {_slowest.Case} ({_slowest.Result})");
            Console.WriteLine($"largest allocation: {_largest!.AllocatedBytes:N0} bytes, {_largest.Case} ({_largest.Result})");
            Console.WriteLine($"cases that broke the rule: {Broken.Count}");
            foreach (var outcome in Broken.Take(50)) Console.WriteLine($"  {outcome.Case}: {outcome.Problem}");
        }
    }
}

/// <summary>The SharpFuzz harness for coverage-guided runs by hand (AFL++), and its starting corpus.</summary>
internal static class Harness
{
    public static int WriteSeeds(string folder)
    {
        Directory.CreateDirectory(folder);
        var file = ModelFileFuzzTarget.ForSequenceModel().File;
        File.WriteAllBytes(Path.Combine(folder, "model.safetensors"), file);
        var lies = ModelFileMutations.HeaderLies(file).ToList();
        var random = new Random(1);
        for (int i = 0; i < 8; i++) File.WriteAllBytes(Path.Combine(folder, $"lie-{i}.safetensors"), lies[random.Next(lies.Count)].Bytes);
        Console.WriteLine($"wrote 9 seeds to {folder}");
        return 0;
    }

    public static int RunAfl()
    {
        SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
        {
            try
            {
                var model = SequenceModelFile.Load(stream, ModelFileFuzzTarget.Source);
                ModelFileFuzzTarget.Score(model);
            }
            catch (InvalidDataException exception) when (exception.Message.StartsWith(ModelFileFuzzTarget.Source, StringComparison.Ordinal))
            {
                // A refusal that names the file: what a damaged file should get.
            }
        });
        return 0;
    }
}
