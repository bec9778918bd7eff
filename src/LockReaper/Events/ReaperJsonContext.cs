using System.Text.Json.Serialization;
using ServerlessDb.Locking.Ec2;

namespace LockReaper.Events;

/// <summary>Source-generated (de)serializers for the scheduled event and the pass summary: no reflection at run time.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ScheduledEvent))]
[JsonSerializable(typeof(ReapSummary))]
internal sealed partial class ReaperJsonContext : JsonSerializerContext;
