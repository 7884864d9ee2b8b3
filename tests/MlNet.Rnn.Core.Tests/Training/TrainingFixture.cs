using System.Text.Json;
using MlNet.Rnn.Core.Tests.Parity;

namespace MlNet.Rnn.Core.Tests.Training;

/// <summary>
/// A training_*.json fixture written by tests/MlNet.Rnn.Parity.Fixtures/TrainingFixtures.cs: tensors named
/// "&lt;case&gt;.&lt;what&gt;" (read through <see cref="TorchFixture"/>) and each case's PyTorch settings in "config".
/// </summary>
internal sealed class TrainingFixture
{
    private readonly TorchFixture _tensors;
    private readonly JsonElement _config;

    private TrainingFixture(string name)
    {
        _tensors = TorchFixture.Load(name);
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TorchFixture.FixturesDirectory, name + ".json")));
        _config = document.RootElement.GetProperty("config").Clone();
    }

    public static TrainingFixture Load(string name) => new(name);

    /// <summary>Names of the cases in "config".</summary>
    public IEnumerable<string> Cases => _config.EnumerateObject().Select(p => p.Name).ToArray();

    public JsonElement Config(string caseName) => _config.GetProperty(caseName);

    public bool Has(string tensor) => _tensors.Has(tensor);

    public float[] Tensor(string name) => _tensors.Tensor(name);
}
