using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using TwinGateway.Api.V1;
using TwinGateway.Commissioning.Audit;
using TwinGateway.Core.Alerts;
using DriftTrainers = TwinGateway.Drift.Models.DriftTrainers;
using TwinGateway.Drift.Registry;
using ApiContributor = TwinGateway.Api.V1.AlertContributor;

namespace TwinGateway.Host.Api;

/// <summary>Drift models and alerts to their API messages.</summary>
internal static class DriftMapping
{
    public static DriftModel ToProto(RegisteredModel model, ModelActivation? active)
    {
        ArgumentNullException.ThrowIfNull(model);
        var card = model.Card;
        var proto = new DriftModel
        {
            Line = model.Line,
            Version = model.Version,
            Kind = DriftTrainers.Name(card.Kind),
            Active = active is not null && active.Version == model.Version,
            TrainedFrom = Timestamp.FromDateTimeOffset(card.TrainedFrom),
            TrainedTo = Timestamp.FromDateTimeOffset(card.TrainedTo),
            TrainedAt = Timestamp.FromDateTimeOffset(card.TrainedAt),
            TrainedBy = card.TrainedBy,
            TrainingDataHash = card.TrainingDataHash,
            Window = card.Window,
            Features = card.Features.Length,
            Threshold = card.Threshold,
            FitRows = card.Metrics.FitRows,
            HoldBackRows = card.Metrics.HoldBackRows,
            File = model.File,
        };
        if (active is not null && active.Version == model.Version)
        {
            proto.ActivatedBy = active.ActivatedBy;
            proto.ActivatedAt = Timestamp.FromDateTimeOffset(active.ActivatedAt);
        }

        foreach (var (key, value) in card.Metrics.Details)
        {
            proto.Details[key] = value;
        }

        return proto;
    }

    public static Alert ToProto(DriftAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var proto = new Alert
        {
            Id = alert.Id,
            Line = alert.Line,
            Authority = alert.Authority.ToText(),
            Detector = alert.Detector,
            ModelVersion = alert.ModelVersion ?? "",
            Severity = alert.Severity.ToString().ToLowerInvariant(),
            State = alert.State.ToString().ToLowerInvariant(),
            Onset = Timestamp.FromDateTimeOffset(alert.Onset),
            LastSeen = Timestamp.FromDateTimeOffset(alert.LastSeen),
            PeakScore = alert.PeakScore,
            AcknowledgedBy = alert.AcknowledgedBy ?? "",
            AcknowledgeNote = alert.AcknowledgeNote ?? "",
            ResolvedBy = alert.ResolvedBy ?? "",
            ResolveNote = alert.ResolveNote ?? "",
            PlotLink = alert.PlotLink,
            SuppressedEpisodes = alert.SuppressedEpisodes,
        };
        if (alert.AcknowledgedAt is { } acknowledged)
        {
            proto.AcknowledgedAt = Timestamp.FromDateTimeOffset(acknowledged);
        }

        if (alert.ResolvedAt is { } resolved)
        {
            proto.ResolvedAt = Timestamp.FromDateTimeOffset(resolved);
        }

        foreach (var contributor in alert.Contributors)
        {
            var c = new ApiContributor { Signal = contributor.Signal, Share = contributor.Share };
            if (contributor.Real is { } real)
            {
                c.Real = real;
            }

            if (contributor.Expected is { } expected)
            {
                c.Expected = expected;
            }

            proto.Contributors.Add(c);
        }

        return proto;
    }

    public static string ToText(this AlertEventKind kind) => kind.ToString().ToLowerInvariant();

    public static string Invariant(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
