
namespace QueryRunner.ApiGateway;

/// <summary>The Lambda input is not an API Gateway proxy event we can map; answered with a 400.</summary>
internal sealed class InvalidEventException(string message, Exception? inner = null) : Exception(message, inner);
