namespace MlNet.Rnn;

/// <summary>The simple catalog overloads' arguments, set on a task's options (the rest keep their defaults).</summary>
internal static class SimpleOptions
{
    public static TOptions Fill<TOptions>(TOptions options, string labelColumnName, string featureColumnName, string? exampleWeightColumnName,
        int featuresPerStep, int hiddenSize, int numberOfLayers, bool bidirectional, int? numberOfEpochs, int batchSize, float? learningRate)
        where TOptions : RecurrentTrainerOptions
    {
        options.LabelColumnName = labelColumnName;
        options.FeatureColumnName = featureColumnName;
        options.ExampleWeightColumnName = exampleWeightColumnName;
        options.FeaturesPerStep = featuresPerStep;
        options.HiddenSize = hiddenSize;
        options.NumberOfLayers = numberOfLayers;
        options.Bidirectional = bidirectional;
        options.NumberOfEpochs = numberOfEpochs;
        options.BatchSize = batchSize;
        options.LearningRate = learningRate;
        return options;
    }
}
