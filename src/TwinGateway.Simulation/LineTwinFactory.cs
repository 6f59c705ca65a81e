using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;

namespace TwinGateway.Simulation;

/// <summary>The twin engine behind <see cref="ITwinFactory"/>: a <see cref="LineTwin"/> in shadow mode, or restored from a snapshot.</summary>
public sealed class LineTwinFactory : ITwinFactory
{
    public ILineTwin CreateShadow(LineDefinition line, TwinSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new LineTwin(line, new TwinOptions
        {
            Seed = settings.Seed,
            Step = settings.Step,
            Mode = TwinMode.Shadow,
            Start = settings.Start,
        });
    }

    /// <inheritdoc/>
    public ILineTwin Restore(LineDefinition line, ReadOnlySpan<byte> state) => LineTwin.Restore(line, state);
}
