using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests.Data;

/// <summary>
/// A row of key vectors of raw type <typeparamref name="T"/>: token keys (features, or the sequence-to-sequence source), a tag
/// per token, a target, and a binary label.
/// </summary>
public sealed class KeyTypeRow<T> where T : struct
{
    public VBuffer<T> Tokens { get; set; }
    public VBuffer<T> Tags { get; set; }
    public VBuffer<T> Target { get; set; }
    public bool Positive { get; set; }
}

/// <summary>
/// Every ML.NET key type (Byte, UInt16, UInt32, UInt64), as a fixed-size, a variable-size or a sparse vector, is read as the
/// same ids by every task that reads keys: a binary classifier and a tagger over token keys, a tagger's tag column, and a
/// sequence-to-sequence source and label. Each task is trained and scored on the data in that key type and on the same data
/// as variable-size UInt32 keys (what MapValueToKey gives), and the scores, predicted keys, evaluations and trained weights
/// must be bit-identical. The token keys hold keys beyond K (K + 1, the type's largest value, and one whose low bits are a
/// valid key), which must read as key 0, unknown, and key 0 itself; the predicted keys keep the label's key type.
/// </summary>
public sealed class KeyTypeTests
{
    private const int TokenKeys = 6, TagKeys = 3, TargetKeys = 5, Rows = 24;

    /// <summary>
    /// How a token beyond the key type's K is written: K + 1; the raw type's largest value; 2^(bits/2) + 3, which a reader
    /// that narrows a key to a smaller integer type would take for key 3.
    /// </summary>
    private const int BeyondByOne = -1, Largest = -2, Wrapping = -3;

    public enum Shape { Fixed, Variable, Sparse }

    private static readonly ConcurrentDictionary<bool, Outputs> s_reference = new();

    public static TheoryData<Type, Shape> Cases()
    {
        var cases = new TheoryData<Type, Shape>();
        foreach (var type in new[] { typeof(byte), typeof(ushort), typeof(uint), typeof(ulong) })
            foreach (var shape in Enum.GetValues<Shape>())
                cases.Add(type, shape);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryTaskReadsEveryKeyTypeAsTheSameIds(Type rawType, Shape shape)
    {
        bool fixedSize = shape == Shape.Fixed;
        var outputs = rawType == typeof(byte) ? Run<byte>(shape, fixedSize, beyondAsMissing: false)
            : rawType == typeof(ushort) ? Run<ushort>(shape, fixedSize, beyondAsMissing: false)
            : rawType == typeof(uint) ? Run<uint>(shape, fixedSize, beyondAsMissing: false)
            : Run<ulong>(shape, fixedSize, beyondAsMissing: false);
        var reference = s_reference.GetOrAdd(fixedSize, _ => Run<uint>(Shape.Variable, fixedSize, beyondAsMissing: true));

        Assert.Equal(rawType, outputs.TaggerKeyType);
        Assert.Equal(rawType, outputs.TranslationKeyType);
        Assert.Equal(reference.Classifier, outputs.Classifier);
        Assert.Equal(reference.Tagger, outputs.Tagger);
        Assert.Equal(reference.Translator, outputs.Translator);
    }

    /// <summary>
    /// Trains the three tasks on the rows written as keys of <typeparamref name="T"/> in <paramref name="shape"/> (the rows of
    /// one length when <paramref name="fixedSize"/>); <paramref name="beyondAsMissing"/> writes a token beyond K as key 0.
    /// </summary>
    private static Outputs Run<T>(Shape shape, bool fixedSize, bool beyondAsMissing) where T : struct, IBinaryInteger<T>
    {
        var mlContext = new MLContext(seed: 1);
        var data = Load<T>(mlContext, RowsOf(fixedSize), shape, beyondAsMissing);

        var classifier = mlContext.BinaryClassification.Trainers.Gru(new RecurrentBinaryTrainer.Options
        {
            LabelColumnName = nameof(KeyTypeRow<T>.Positive), FeatureColumnName = nameof(KeyTypeRow<T>.Tokens),
            EmbeddingSize = 3, HiddenSize = 4, NumberOfEpochs = 2, BatchSize = 8, LearningRate = 0.05f, Seed = 1, MaxDegreeOfParallelism = 1,
        }).Fit(data);
        string[] classifierScores = Fingerprint.Of(classifier.Transform(data), "Score");

        var tagger = mlContext.SequenceTagging.Trainers.Lstm(new SequenceTaggingTrainer.Options
        {
            LabelColumnName = nameof(KeyTypeRow<T>.Tags), FeatureColumnName = nameof(KeyTypeRow<T>.Tokens),
            EmbeddingSize = 3, HiddenSize = 4, NumberOfEpochs = 2, BatchSize = 8, LearningRate = 0.05f, Seed = 1, MaxDegreeOfParallelism = 1,
        }).Fit(data);
        var tagged = tagger.Transform(data);
        var tagging = mlContext.SequenceTagging.Evaluate(tagged, labelColumnName: nameof(KeyTypeRow<T>.Tags));
        string[] tags = KeysOf<T>(tagged, "PredictedLabel");
        string[] taggerOutputs = [.. Fingerprint.Of(tagged, "Score"), .. tags, tagging.TokenAccuracy.ToString("R", CultureInfo.InvariantCulture)];

        var translator = mlContext.SequenceToSequence.Trainers.Gru(new SequenceToSequenceTrainer.Options
        {
            LabelColumnName = nameof(KeyTypeRow<T>.Target), FeatureColumnName = nameof(KeyTypeRow<T>.Tokens),
            EmbeddingSize = 3, HiddenSize = 4, NumberOfEpochs = 2, BatchSize = 8, LearningRate = 0.05f, MaximumOutputLength = 5, BeamWidth = 2,
            Seed = 1, MaxDegreeOfParallelism = 1,
        }).Fit(data);
        var translated = translator.Transform(data);
        var translation = mlContext.SequenceToSequence.Evaluate(translated, labelColumnName: nameof(KeyTypeRow<T>.Target));
        string[] translatorOutputs =
        [
            .. KeysOf<T>(translated, "PredictedLabel"),
            translation.ExactMatch.ToString("R", CultureInfo.InvariantCulture), translation.TokenAccuracy.ToString("R", CultureInfo.InvariantCulture),
            .. translator.Model.EncoderParameters.Values.ToArray().Select(Fingerprint.Bits),
            .. translator.Model.DecoderParameters.Values.ToArray().Select(Fingerprint.Bits),
        ];

        return new Outputs(classifierScores, taggerOutputs, translatorOutputs,
            ((VectorDataViewType)tagged.Schema["PredictedLabel"].Type).ItemType.RawType, ((VectorDataViewType)translated.Schema["PredictedLabel"].Type).ItemType.RawType);
    }

    /// <summary>
    /// Token codes 0 … K (0 is the missing key) and the codes of keys beyond K; a tag per token; the
    /// target is the first three tokens reversed, each mapped into 1 … K_t; positive when key 2 occurs. Every row has 5 tokens
    /// when <paramref name="fixedSize"/>, else 1 to 6.
    /// </summary>
    private static (int[] Tokens, int[] Tags, int[] Target, bool Positive)[] RowsOf(bool fixedSize)
    {
        var random = new Random(fixedSize ? 7 : 8);
        var rows = new (int[], int[], int[], bool)[Rows];
        for (int r = 0; r < Rows; r++)
        {
            int[] tokens = [.. Enumerable.Range(0, fixedSize ? 5 : random.Next(1, 7)).Select(_ => random.Next(TokenKeys + 1))];
            if (r % 3 == 0) tokens[random.Next(tokens.Length)] = (r / 3 % 3) switch { 0 => BeyondByOne, 1 => Largest, _ => Wrapping };
            int[] tags = [.. tokens.Select(token => token <= 0 ? 1 : token % TagKeys + 1)];
            int[] target = [.. tokens.Take(3).Reverse().Select(token => Math.Max(token, 0) % TargetKeys + 1)];
            rows[r] = (tokens, tags, target, tokens.Contains(2));
        }
        return rows;
    }

    private static IDataView Load<T>(MLContext mlContext, (int[] Tokens, int[] Tags, int[] Target, bool Positive)[] rows, Shape shape, bool beyondAsMissing)
        where T : struct, IBinaryInteger<T>
    {
        T Key(int code) => code switch
        {
            BeyondByOne => beyondAsMissing ? T.Zero : T.CreateTruncating(TokenKeys + 1),
            Largest => beyondAsMissing ? T.Zero : T.AllBitsSet,
            Wrapping => beyondAsMissing ? T.Zero : T.CreateTruncating((1UL << (T.Zero.GetByteCount() * 4)) + 3),
            _ => T.CreateTruncating(code),
        };
        VBuffer<T> Dense(int[] codes) => new(codes.Length, [.. codes.Select(Key)]);
        VBuffer<T> Sparse(int[] codes)
        {
            int[] present = [.. Enumerable.Range(0, codes.Length).Where(i => codes[i] != 0)];
            return new VBuffer<T>(codes.Length, present.Length, [.. present.Select(i => Key(codes[i]))], present);
        }
        var definition = SchemaDefinition.Create(typeof(KeyTypeRow<T>));
        int Size(int length) => shape == Shape.Fixed ? length : 0;
        definition[nameof(KeyTypeRow<T>.Tokens)].ColumnType = new VectorDataViewType(new KeyDataViewType(typeof(T), TokenKeys), Size(rows[0].Tokens.Length));
        definition[nameof(KeyTypeRow<T>.Tags)].ColumnType = new VectorDataViewType(new KeyDataViewType(typeof(T), TagKeys), Size(rows[0].Tags.Length));
        definition[nameof(KeyTypeRow<T>.Target)].ColumnType = new VectorDataViewType(new KeyDataViewType(typeof(T), TargetKeys), Size(rows[0].Target.Length));
        var typed = rows.Select(row => new KeyTypeRow<T>
        {
            Tokens = shape == Shape.Sparse ? Sparse(row.Tokens) : Dense(row.Tokens),
            Tags = Dense(row.Tags),
            Target = Dense(row.Target),
            Positive = row.Positive,
        }).ToArray();
        return mlContext.Data.LoadFromEnumerable(typed, definition);
    }

    /// <summary>A key-vector column of raw type <typeparamref name="T"/>, one string of key numbers per row.</summary>
    private static string[] KeysOf<T>(IDataView data, string name) where T : struct, IBinaryInteger<T> =>
        [.. data.GetColumn<VBuffer<T>>(data.Schema[name]).Select(keys => string.Join(' ', keys.DenseValues().Select(key => ulong.CreateTruncating(key))))];

    private sealed record Outputs(string[] Classifier, string[] Tagger, string[] Translator, Type TaggerKeyType, Type TranslationKeyType);
}
