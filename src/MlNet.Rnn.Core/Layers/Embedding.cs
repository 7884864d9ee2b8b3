using System.Numerics.Tensors;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Layers;

/// <summary>
/// Token embedding: row <c>id</c> of <c>weight [V, E]</c> for each token id. Id 0 stands for an unknown or missing
/// token and has its own trained row, as ML.NET's key 0 (missing) needs. Parameter: <c>{name}.weight</c> [V, E].
/// </summary>
public sealed class Embedding
{
    private readonly ParameterSet _parameters;
    private readonly ParameterTensor _weight;

    /// <summary>Creates the table (V = <paramref name="vocabularySize"/> rows including id 0) and registers it.</summary>
    public Embedding(ParameterSet parameters, string name, int vocabularySize, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        _parameters = parameters;
        _weight = parameters.Add($"{name}.weight", vocabularySize, dimension);
        VocabularySize = vocabularySize;
        Dimension = dimension;
    }

    /// <summary>V: ids run from 0 to V − 1.</summary>
    public int VocabularySize { get; }

    /// <summary>E: floats per token.</summary>
    public int Dimension { get; }

    /// <summary>The table <c>[V, E]</c>.</summary>
    public ParameterTensor Weight => _weight;

    /// <summary>PyTorch's default: every entry ~ N(0, 1).</summary>
    public void Initialize(Random random)
    {
        Span<float> values = _parameters.ValuesOf(_weight);
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
    }

    /// <summary>Writes <c>output[n] = weight[ids[n]]</c>, <c>[count, E]</c>.</summary>
    public void Forward(ReadOnlySpan<int> ids, Span<float> output)
    {
        CheckIds(ids);
        if (output.Length < ids.Length * Dimension)
            throw new ArgumentException($"output holds {output.Length} floats but ids·E = {ids.Length}·{Dimension} are needed.", nameof(output));
        ReadOnlySpan<float> table = _parameters.ReadOnlyValuesOf(_weight);
        for (int n = 0; n < ids.Length; n++) table.Slice(ids[n] * Dimension, Dimension).CopyTo(output.Slice(n * Dimension, Dimension));
    }

    /// <summary>Adds <c>outputGradient[n]</c> into the gradient row of <c>ids[n]</c>.</summary>
    public void Backward(ReadOnlySpan<int> ids, ReadOnlySpan<float> outputGradient)
    {
        CheckIds(ids);
        if (outputGradient.Length < ids.Length * Dimension)
            throw new ArgumentException($"outputGradient holds {outputGradient.Length} floats but ids·E = {ids.Length}·{Dimension} are needed.", nameof(outputGradient));
        Span<float> gradient = _parameters.GradientsOf(_weight);
        for (int n = 0; n < ids.Length; n++)
        {
            Span<float> row = gradient.Slice(ids[n] * Dimension, Dimension);
            TensorPrimitives.Add(row, outputGradient.Slice(n * Dimension, Dimension), row);
        }
    }

    private void CheckIds(ReadOnlySpan<int> ids)
    {
        for (int n = 0; n < ids.Length; n++)
            if ((uint)ids[n] >= (uint)VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(ids),
                    $"ids[{n}] = {ids[n]} is outside the vocabulary [0, {VocabularySize - 1}]. Map unseen tokens to 0 (unknown).");
    }
}
