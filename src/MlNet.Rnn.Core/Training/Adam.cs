using MlNet.Rnn.Core.Parameters;

namespace MlNet.Rnn.Core.Training;

/// <summary>
/// Adam (Kingma and Ba), as <c>torch.optim.Adam</c>: <c>m = β1 m + (1−β1) g</c>, <c>v = β2 v + (1−β2) g²</c>,
/// <c>θ −= lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε)</c>, over the whole flat parameter buffer in one loop.
/// </summary>
public sealed class Adam
{
    private readonly ParameterSet _parameters;
    private readonly float[] _firstMoment, _secondMoment;
    private int _step;

    /// <summary>Creates moments in the layout of <paramref name="parameters"/>.</summary>
    public Adam(ParameterSet parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(learningRate > 0 && float.IsFinite(learningRate)))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be a positive finite number.");
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be ≥ 0.");
        _parameters = parameters;
        _firstMoment = new float[parameters.Count];
        _secondMoment = new float[parameters.Count];
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    /// <summary>lr; must stay positive (schedules change it between steps).</summary>
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = value > 0 && float.IsFinite(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(LearningRate), value, "The learning rate must be a positive finite number.");
    }

    private float _learningRate;

    /// <summary>β1.</summary>
    public float Beta1 { get; }

    /// <summary>β2.</summary>
    public float Beta2 { get; }

    /// <summary>ε.</summary>
    public float Epsilon { get; }

    /// <summary>Applies one update from the current gradients.</summary>
    public void Step()
    {
        if (_parameters.Count != _firstMoment.Length)
            throw new InvalidOperationException(
                $"The parameter set has {_parameters.Count} values but this optimizer was made for {_firstMoment.Length}; create it after every layer is added.");
        _step++;
        Span<float> values = _parameters.Values, gradients = _parameters.Gradients;
        float correction1 = 1f - MathF.Pow(Beta1, _step), correction2 = 1f - MathF.Pow(Beta2, _step);
        float stepSize = LearningRate / correction1, inverseRootCorrection2 = 1f / MathF.Sqrt(correction2);
        for (int i = 0; i < values.Length; i++)
        {
            float g = gradients[i];
            float m = _firstMoment[i] = Beta1 * _firstMoment[i] + (1 - Beta1) * g;
            float v = _secondMoment[i] = Beta2 * _secondMoment[i] + (1 - Beta2) * g * g;
            values[i] -= stepSize * m / (MathF.Sqrt(v) * inverseRootCorrection2 + Epsilon);
        }
    }
}
