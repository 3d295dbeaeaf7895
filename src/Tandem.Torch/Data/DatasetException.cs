using Tandem.Core;

namespace Tandem.Torch.Data;

/// <summary>
/// A data file or folder that cannot be used: missing, the wrong format (bad magic number, truncated
/// record, unknown element type), or images of a shape the task does not accept. The message names
/// the file (and field) and says what is accepted.
/// </summary>
public sealed class DatasetException : InputException
{
    public DatasetException(string message) : base(message) { }
    public DatasetException(string message, Exception inner) : base(message, inner) { }
}
