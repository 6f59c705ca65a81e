using System.Collections.Immutable;
using System.Globalization;

namespace TwinGateway.Drift.Registry;

/// <summary>A request to activate a model version that the line's policy wants approved first, with the approvals so far.</summary>
public sealed record ModelActivationRequest(string Line, string Version, string RequestedBy, DateTimeOffset RequestedAt, ImmutableArray<string> ApprovedBy);

/// <summary>Activations that need approval: requested by one person, approved by others (four eyes), then activated.</summary>
public sealed partial class ModelRegistry
{
    /// <summary>Records that <paramref name="by"/> asks for <paramref name="version"/> to be activated; an open request for it is replaced (its approvals dropped).</summary>
    /// <exception cref="ModelRegistryException">The line has no such version.</exception>
    public ModelActivationRequest RequestActivation(string line, string version, string by)
    {
        ArgumentNullException.ThrowIfNull(line);
        RequireUser(by, "request a model activation");
        var model = Get(line, version) ?? throw new ModelRegistryException($"line '{line}' has no model version '{version}'; registered: {Registered(line)}");
        var at = _time.GetUtcNow();
        return Run($"record the activation request of version {model.Version} of line '{line}'", () =>
        {
            using var transaction = _connection.BeginTransaction();
            using (var command = _connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = """
                    DELETE FROM drift_model_approvals WHERE line = $line AND version = $version;
                    INSERT INTO drift_model_requests (line, version, requested_by, requested_at) VALUES ($line, $version, $by, $at)
                        ON CONFLICT (line, version) DO UPDATE SET requested_by = excluded.requested_by, requested_at = excluded.requested_at;
                    """;
                command.Parameters.AddWithValue("$line", line);
                command.Parameters.AddWithValue("$version", long.Parse(model.Version, CultureInfo.InvariantCulture));
                command.Parameters.AddWithValue("$by", by);
                command.Parameters.AddWithValue("$at", at.UtcTicks);
                command.ExecuteNonQuery();
            }

            transaction.Commit();
            return new ModelActivationRequest(line, model.Version, by, at, []);
        });
    }

    /// <summary>The open activation request of the version, or null.</summary>
    public ModelActivationRequest? PendingActivation(string line, string version)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (!long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }

        return Run($"read the activation request of version {version} of line '{line}'", () =>
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                SELECT requested_by, requested_at FROM drift_model_requests WHERE line = $line AND version = $version;
                SELECT approved_by FROM drift_model_approvals WHERE line = $line AND version = $version ORDER BY approved_at, approved_by;
                """;
            command.Parameters.AddWithValue("$line", line);
            command.Parameters.AddWithValue("$version", number);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            var requestedBy = reader.GetString(0);
            var requestedAt = new DateTimeOffset(reader.GetInt64(1), TimeSpan.Zero);
            reader.NextResult();
            var approvals = ImmutableArray.CreateBuilder<string>();
            while (reader.Read())
            {
                approvals.Add(reader.GetString(0));
            }

            return new ModelActivationRequest(line, number.ToString(CultureInfo.InvariantCulture), requestedBy, requestedAt, approvals.ToImmutable());
        });
    }

    /// <summary>
    /// Adds <paramref name="by"/>'s approval to the open request. Four eyes: who asked cannot approve, nor can one person
    /// approve twice.
    /// </summary>
    /// <exception cref="ModelRegistryException">No open request, the requester approving, or a second approval by the same person; the message says which.</exception>
    public ModelActivationRequest Approve(string line, string version, string by)
    {
        RequireUser(by, "approve a model activation");
        lock (_lock)
        {
            var request = PendingActivation(line, version) ?? throw new ModelRegistryException(
                $"nobody asked to activate version '{version}' of line '{line}': an engineer asks first (`twingw drift activate`)");
            if (string.Equals(request.RequestedBy, by, StringComparison.OrdinalIgnoreCase))
            {
                throw new ModelRegistryException($"{by} asked for this activation and cannot approve it too: another person with the approver, safety or admin role must");
            }

            if (request.ApprovedBy.Contains(by, StringComparer.OrdinalIgnoreCase))
            {
                throw new ModelRegistryException($"{by} has already approved the activation of version {request.Version} of line '{line}'");
            }

            Run($"record the approval of version {request.Version} of line '{line}'", () =>
            {
                using var command = _connection.CreateCommand();
                command.CommandText = "INSERT INTO drift_model_approvals (line, version, approved_by, approved_at) VALUES ($line, $version, $by, $at)";
                command.Parameters.AddWithValue("$line", line);
                command.Parameters.AddWithValue("$version", long.Parse(request.Version, CultureInfo.InvariantCulture));
                command.Parameters.AddWithValue("$by", by);
                command.Parameters.AddWithValue("$at", _time.GetUtcNow().UtcTicks);
                return command.ExecuteNonQuery();
            });
            return request with { ApprovedBy = request.ApprovedBy.Add(by) };
        }
    }

    /// <summary>Closes the version's request (after it was activated); nothing happens when there is none.</summary>
    public void CloseRequest(string line, string version)
    {
        if (!long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return;
        }

        Run($"close the activation request of version {version} of line '{line}'", () =>
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                DELETE FROM drift_model_approvals WHERE line = $line AND version = $version;
                DELETE FROM drift_model_requests WHERE line = $line AND version = $version;
                """;
            command.Parameters.AddWithValue("$line", line);
            command.Parameters.AddWithValue("$version", number);
            return command.ExecuteNonQuery();
        });
    }
}
