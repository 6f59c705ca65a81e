using YamlDotNet.RepresentationModel;

namespace TwinGateway.Core.Lines.Parsing;

internal sealed partial class LineDefinitionParser
{
    /// <summary>A signal as read so far; built into a <see cref="SignalDefinition"/> only when the file has no error.</summary>
    private sealed class SignalEntry(string path, SourceLocation source)
    {
        public string Path { get; } = path;

        public SourceLocation Source { get; } = source;

        public string Id { get; set; } = "";

        public YamlNode? IdNode { get; set; }

        public string? StationId { get; set; }

        /// <summary>A <c>line.</c> signal: it has no station, so station-driven models do not apply.</summary>
        public bool IsLineWide { get; set; }

        public string Name { get; set; } = "";

        public string? Description { get; set; }

        public SignalDataType? DataType { get; set; }

        public string Unit { get; set; } = "";

        public SignalDirection? Direction { get; set; }

        public NominalRange? Range { get; set; }

        public double? Tolerance { get; set; }

        public string NodeId { get; set; } = "";

        public string? ControllerId { get; set; }

        public SignalModel? Model { get; set; }

        public string? ModelKind { get; set; }

        public YamlNode? ModelKindNode { get; set; }

        public List<SetpointEffect> Effects { get; } = [];

        /// <summary>What a robot uses this signal for ("robot1 axis a1 position"), once the robots are read.</summary>
        public string? UsedBy { get; set; }

        public SignalDefinition Build() => new()
        {
            Id = Id,
            StationId = StationId,
            Name = Name,
            Description = Description,
            DataType = DataType ?? throw new InvalidOperationException($"Signal '{Id}' has no data type."),
            Unit = Unit,
            Direction = Direction ?? throw new InvalidOperationException($"Signal '{Id}' has no direction."),
            NominalRange = Range,
            Tolerance = Tolerance,
            NodeId = NodeId,
            ControllerId = ControllerId ?? throw new InvalidOperationException($"Signal '{Id}' has no controller."),
            Model = Model,
            Effects = [.. Effects],
            Source = Source,
        };
    }
}
