using MlNet.Rnn.Core.Layers;
using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Training;

namespace MlNet.Rnn.Models;

/// <summary>
/// A trained recurrent model: the core's <see cref="SequenceModel"/> (optional token embedding → recurrent stack → dense
/// head), read-only and shared. Every cursor and prediction engine scores in a workspace of its own
/// (<see cref="CreateWorkspace"/>), which copies no weights, so cursors score in parallel.
/// </summary>
public sealed class RecurrentModelParameters
{
    private readonly SequenceModel _model;

    internal RecurrentModelParameters(SequenceModel model, TrainingHistory? history)
    {
        _model = model;
        History = history;
    }

    /// <summary>The network's shape, as the core's model file stores it.</summary>
    public SequenceModelOptions ModelOptions => _model.Options;

    /// <summary>The recurrent cell.</summary>
    public RecurrentCellType Cell => _model.Options.Cell;

    /// <summary>I: features per time step (numeric inputs).</summary>
    public int FeaturesPerStep => _model.Options.FeaturesPerStep;

    /// <summary>V: rows of the token embedding (key count + 1, row 0 for missing and unseen keys); 0 for numeric inputs.</summary>
    public int VocabularySize => _model.Options.VocabularySize;

    /// <summary>H: hidden units per layer and direction.</summary>
    public int HiddenSize => _model.Options.HiddenSize;

    /// <summary>L: stacked recurrent layers.</summary>
    public int NumberOfLayers => _model.Options.Layers;

    /// <summary>Whether each layer also reads the sequence backwards (D = 2).</summary>
    public bool Bidirectional => _model.Options.Bidirectional;

    /// <summary>O: raw outputs per row (1, or the class count).</summary>
    public int OutputSize => _model.Options.OutputSize;

    /// <summary>D·H: width of the final hidden state the head reads.</summary>
    public int HiddenStateSize => _model.Network.OutputSize;

    /// <summary>The epochs of the training run, when this model was trained in this process (null after loading).</summary>
    public TrainingHistory? History { get; }

    /// <summary>Writes the network as the core's model file (safetensors with PyTorch names), which <see cref="SequenceModelFile"/> reads.</summary>
    public void SaveModelFile(Stream stream) => SequenceModelFile.Save(_model, stream);

    /// <summary>The network itself, read-only (ONNX export reads its weights).</summary>
    internal SequenceModel SequenceModel => _model;

    /// <summary>
    /// A new, empty workspace for scoring with this model (nothing copied), splitting a batch across up to
    /// <paramref name="maxDegreeOfParallelism"/> threads, its recurrent products in <paramref name="precision"/>.
    /// </summary>
    internal SequenceModelWorkspace CreateWorkspace(int maxDegreeOfParallelism, InferencePrecision precision = InferencePrecision.Float32) =>
        _model.CreateWorkspace(maxDegreeOfParallelism, precision);
}
