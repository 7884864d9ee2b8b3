using System.Globalization;
using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// An optimizer over the flat buffer of a <see cref="ParameterSet"/>: <see cref="Step"/> updates
/// <see cref="ParameterSet.Values"/> from <see cref="ParameterSet.Gradients"/>, with its state (moments, velocities) in the
/// same layout, so a step is one loop over the buffer and never allocates.
/// </summary>
public abstract class Optimizer
{
    private readonly List<(string Name, float[] Buffer)> _state = [];
    private readonly int _parameterCount;
    private float _learningRate;

    /// <summary>Creates the optimizer for every parameter registered so far (create it after every layer is added).</summary>
    protected Optimizer(ParameterSet parameters, float learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        CheckLearningRate(learningRate, nameof(learningRate));
        Parameters = parameters;
        _parameterCount = parameters.Count;
        _learningRate = learningRate;
    }

    /// <summary>The optimizer <paramref name="options"/> name, over every parameter of <paramref name="parameters"/>.</summary>
    public static Optimizer Create(ParameterSet parameters, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Optimizer switch
        {
            OptimizerKind.Sgd => new Sgd(parameters, options.LearningRate, options.Momentum, 0f, options.Nesterov, options.WeightDecay),
            OptimizerKind.AdamW => new AdamW(parameters, options.LearningRate, options.Beta1, options.Beta2, 1e-8f, options.WeightDecay),
            OptimizerKind.RmsProp => new RmsProp(parameters, options.LearningRate, momentum: options.Momentum, weightDecay: options.WeightDecay),
            _ => new Adam(parameters, options.LearningRate, options.Beta1, options.Beta2, 1e-8f, options.WeightDecay),
        };
    }

    /// <summary>The parameters this optimizer updates.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>lr, a finite number &gt; 0; schedules may change it between steps.</summary>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            CheckLearningRate(value, nameof(LearningRate));
            _learningRate = value;
        }
    }

    /// <summary>Number of steps taken (PyTorch's <c>state['step']</c>); restored by <see cref="LoadState"/>.</summary>
    public int StepCount { get; private set; }

    /// <summary>Applies one update from the current gradients (which it leaves unchanged).</summary>
    public void Step()
    {
        if (Parameters.Count != _parameterCount)
            throw new InvalidOperationException(
                $"The parameter set has {Parameters.Count} values but this optimizer was made for {_parameterCount}; create it after every layer is added.");
        StepCount = checked(StepCount + 1);
        Update(Parameters.Values, Parameters.Gradients, StepCount);
    }

    /// <summary>
    /// Writes the optimizer's state into <paramref name="state"/>: key <c>"step"</c> = <c>[StepCount]</c> (exact up to 2²⁴
    /// steps) and one copy of each buffer under PyTorch's name (<c>"exp_avg"</c>, <c>"momentum_buffer"</c>, …).
    /// </summary>
    public void SaveState(IDictionary<string, float[]> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state["step"] = [StepCount];
        foreach (var (name, buffer) in _state) state[name] = (float[])buffer.Clone();
    }

    /// <summary>
    /// Restores what <see cref="SaveState"/> wrote, from an optimizer of the same kind and configuration over a parameter set
    /// of the same size. Everything is checked before anything changes.
    /// </summary>
    public void LoadState(IReadOnlyDictionary<string, float[]> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        string expected = string.Join(", ", _state.Select(s => s.Name).Prepend("step"));
        if (!state.TryGetValue("step", out var step) || step is null || step.Length != 1)
            throw new ArgumentException($"The state needs \"step\" as an array of one value; {GetType().Name} expects the keys {expected}.", nameof(state));
        if (!(step[0] >= 0 && step[0] <= int.MaxValue && step[0] == MathF.Floor(step[0])))
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The state's \"step\" is {step[0]}; it must be a whole number ≥ 0."), nameof(state));
        foreach (string key in state.Keys)
            if (key != "step" && !_state.Exists(s => s.Name == key))
                throw new ArgumentException(
                    $"The state has the key \"{key}\", which {GetType().Name} with this configuration does not use; it expects {expected}. " +
                    "Was it saved by another optimizer or configuration?", nameof(state));
        foreach (var (name, buffer) in _state)
        {
            if (!state.TryGetValue(name, out var saved) || saved is null)
                throw new ArgumentException($"The state has no \"{name}\"; {GetType().Name} with this configuration expects {expected}.", nameof(state));
            if (saved.Length != buffer.Length)
                throw new ArgumentException(
                    $"The state's \"{name}\" holds {saved.Length} values but this optimizer's parameters hold {buffer.Length}; " +
                    "the state belongs to a model of another size.", nameof(state));
        }
        foreach (var (name, buffer) in _state) state[name].CopyTo(buffer, 0);
        StepCount = (int)Math.Min((double)step[0], int.MaxValue);   // 2³¹, which SaveState writes for int.MaxValue, saturates on every runtime
    }

    /// <summary>Registers a state buffer the size of the parameter set, zero-initialised, saved under <paramref name="name"/>.</summary>
    protected float[] AddState(string name)
    {
        var buffer = new float[_parameterCount];
        _state.Add((name, buffer));
        return buffer;
    }

    /// <summary>The update of step <paramref name="step"/> (1-based, as PyTorch's <c>state['step']</c> after its increment).</summary>
    protected abstract void Update(Span<float> values, ReadOnlySpan<float> gradients, int step);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the hyperparameter, its value and its range.</summary>
    protected static void CheckRange(float value, float minimum, float maximum, bool maximumIncluded, string name)
    {
        if (!(value >= minimum && (maximumIncluded ? value <= maximum : value < maximum)))
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture,
                $"{name} must be in [{minimum}, {(float.IsPositiveInfinity(maximum) ? "∞" : maximum)}{(maximumIncluded ? "]" : ")")}; it is {value}."));
    }

    private static void CheckLearningRate(float value, string name)
    {
        if (!(value > 0 && float.IsFinite(value)))
            throw new ArgumentOutOfRangeException(name, value,
                string.Create(CultureInfo.InvariantCulture, $"The learning rate must be a finite number > 0; it is {value}."));
    }
}
