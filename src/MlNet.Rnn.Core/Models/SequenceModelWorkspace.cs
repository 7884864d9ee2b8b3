using MlNet.Rnn.Core.Data;
using MlNet.Rnn.Core.Layers;

namespace MlNet.Rnn.Core.Models;

/// <summary>
/// One caller's scratch for inference with a shared <see cref="SequenceModel"/> (<see cref="SequenceModel.CreateWorkspace"/>):
/// the embedded input, the recurrent stack's workspace, its output and final states, and the features the head reads. The model
/// stays read-only and is never copied; a workspace is created empty and its buffers grow to the largest batch it scores.
/// Not thread-safe: one per thread, cursor or prediction engine; any number may score with one model at once.
/// </summary>
public sealed class SequenceModelWorkspace
{
    internal SequenceModelWorkspace(SequenceModel model, RecurrentNetworkWorkspace? network)
    {
        Model = model;
        Network = network;
    }

    /// <summary>The model this workspace scores with.</summary>
    public SequenceModel Model { get; }

    /// <summary>Raw outputs <c>[B, O]</c> or <c>[T, B, O]</c> of a batch, as <see cref="SequenceModel.Forward(SequenceModelWorkspace, SequenceBatch, Span{float})"/>.</summary>
    public void Forward(SequenceBatch batch, Span<float> output) => Model.Forward(this, batch, output);

    /// <summary>
    /// The features the head read in the last <see cref="Forward"/>: the top layer's final states, or their mean over the steps,
    /// <c>[B, D·H]</c> (many-to-one) or every step's top-layer output <c>[T·B, D·H]</c> (many-to-many). Valid until the next <see cref="Forward"/>.
    /// </summary>
    public ReadOnlySpan<float> ReadoutFeatures =>
        (Model.Options.Readout == SequenceReadout.EveryStep ? RecurrentOutput : Features).AsSpan(0, ReadoutRows * Model.Network.OutputSize);

    /// <summary>The recurrent stack's workspace; null for the model's own (training) workspace, which uses the network's own buffers.</summary>
    internal RecurrentNetworkWorkspace? Network { get; }

    internal float[] Embedded = [], RecurrentOutput = [], FinalHidden = [], Features = [];

    internal int ReadoutRows;
}
