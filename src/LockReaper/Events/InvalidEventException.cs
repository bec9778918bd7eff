namespace LockReaper.Events;

/// <summary>The input is neither empty, nor a JSON object such as the EventBridge scheduled event.</summary>
public sealed class InvalidEventException(string message, Exception? innerException = null) : Exception(message, innerException);
