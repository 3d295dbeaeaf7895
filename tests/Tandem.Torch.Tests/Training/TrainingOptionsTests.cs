using Tandem.Core.Configuration;
using Tandem.Torch.Data;
using Tandem.Torch.Training;
using static Tandem.Torch.Tests.TestSupport;

namespace Tandem.Torch.Tests.Training;

public sealed class TrainingOptionsTests
{
    [Fact]
    public void Schedules_start_end_and_decay_as_documented()
    {
        var cosine = new TrainingOptions { Schedule = LearningRateSchedule.Cosine, LearningRate = 1 };
        Assert.Equal(1, cosine.LearningRateAt(0), 12);
        Assert.Equal(0.5, cosine.LearningRateAt(0.5), 12);
        Assert.Equal(0, cosine.LearningRateAt(1), 12);
        var step = new TrainingOptions { Schedule = LearningRateSchedule.Step, LearningRate = 1, StepEvery = 0.5, StepGamma = 0.1 };
        Assert.Equal(1, step.LearningRateAt(0.49), 12);
        Assert.Equal(0.1, step.LearningRateAt(0.51), 12);
        var one = new TrainingOptions { Schedule = LearningRateSchedule.OneCycle, LearningRate = 1, Warmup = 0.2 };
        Assert.Equal(0.1, one.LearningRateAt(0), 12);
        Assert.Equal(1, one.LearningRateAt(0.2), 12);
        Assert.True(one.LearningRateAt(0.1) is > 0.1 and < 1);
        Assert.Equal(0, one.LearningRateAt(1), 12);
        Assert.Equal(0.3, new TrainingOptions { Schedule = LearningRateSchedule.Constant, LearningRate = 0.3 }.LearningRateAt(0.7), 12);
    }

    [Fact]
    public void Budget_scales_every_limit()
    {
        var b = new TrainingBudget { Epochs = 2, Steps = 10, Samples = 100, WallTime = TimeSpan.FromSeconds(20) }.Scale(1.5);
        Assert.Equal(3, b.Epochs);
        Assert.Equal(15, b.Steps);
        Assert.Equal(150, b.Samples);
        Assert.Equal(TimeSpan.FromSeconds(30), b.WallTime);
    }

    [Fact]
    public void A_budget_without_any_limit_is_rejected()
    {
        Assert.Throws<ConfigException>(() => new TrainingBudget().Validate());
    }

    [Fact]
    public void Binding_reads_every_key()
    {
        var o = TrainingOptions.Bind(Config(("optimizer", "adamw"), ("lr", 0.01), ("schedule", "cosine"), ("augment", "crop-flip"), ("steps", 7), ("batch_size", 16), ("patience", 2)));
        Assert.Equal("adamw", o.Optimizer);
        Assert.Equal(LearningRateSchedule.Cosine, o.Schedule);
        Assert.Equal(Augmentation.CropFlip, o.Augment);
        Assert.Equal(7, o.Budget.Steps);
        Assert.Null(o.Budget.Epochs);
        Assert.Equal(16, o.BatchSize);
    }

    [Fact]
    public void Split_is_seeded_disjoint_and_nested()
    {
        var a = DataSplit.Create(100, 20, 50, seed: 3);
        var b = DataSplit.Create(100, 20, 80, seed: 3);
        Assert.Equal(a.Validation, b.Validation);
        Assert.Equal(a.Train, b.Train[..50]);
        Assert.Empty(a.Validation.Intersect(b.Train));
        Assert.Equal(80, b.Train.Length);
        Assert.Equal(80, DataSplit.Create(100, 20, 500, seed: 3).Train.Length);
        Assert.NotEqual(a.Validation, DataSplit.Create(100, 20, 50, seed: 4).Validation);
        Assert.Throws<Tandem.Core.InputException>(() => DataSplit.Create(100, 100, 5, 1));
    }
}
