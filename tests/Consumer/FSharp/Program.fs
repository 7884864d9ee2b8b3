// An F# app on the MlNet.Rnn package: an LSTM regression trained in an ML.NET pipeline and evaluated against repeating
// the last sample, and the four task catalogs ML.NET has no property for, through their methods. Exits 1 if the model
// does not beat the naive forecast.
open System
open Microsoft.ML
open Microsoft.ML.Data

[<CLIMutable>]
type Window = { [<VectorType(16)>] Samples: float32[]; Next: float32 }

let sample count (seed: int) =
    let random = Random(seed)
    Array.init count (fun _ ->
        let phase = random.NextDouble() * 2.0 * Math.PI
        let frequency = 0.1 + 0.5 * random.NextDouble()
        { Samples = Array.init 16 (fun t -> float32 (sin (frequency * float t + phase)))
          Next = float32 (sin (frequency * 16.0 + phase)) })

[<EntryPoint>]
let main _ =
    let mlContext = MLContext(seed = 1)
    let trainRows, testRows = sample 800 1, sample 200 2
    let train = mlContext.Data.LoadFromEnumerable(trainRows)
    let test = mlContext.Data.LoadFromEnumerable(testRows)
    let trainer =
        mlContext.Regression.Trainers.Lstm(labelColumnName = "Next", featureColumnName = "Samples", featuresPerStep = 1,
                                           hiddenSize = 16, numberOfEpochs = 8, batchSize = 32, learningRate = 0.01f)
    let model = trainer.Fit(train)
    let metrics = mlContext.Regression.Evaluate(model.Transform(test), labelColumnName = "Next")
    let naive = testRows |> Array.averageBy (fun w -> float ((w.Next - w.Samples.[15]) ** 2.0f)) |> sqrt
    let catalogs =
        [ mlContext.SequenceTaggingCatalog().Trainers.Lstm().GetType().Name
          mlContext.SequenceToSequenceCatalog().Trainers.Gru().GetType().Name
          mlContext.LanguageModelingCatalog().Trainers.Rnn().GetType().Name
          mlContext.RecurrentExperimentsCatalog().GetType().Name ]
    printfn "F#: held-out RMSE %.4f (repeating the last sample: %.4f); catalogs: %s"
        metrics.RootMeanSquaredError naive (String.Join(", ", catalogs))
    if metrics.RootMeanSquaredError < naive then 0 else 1
