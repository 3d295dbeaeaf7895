namespace Tandem.Core;

/// <summary>
/// Base of every error caused by what a user supplied (a config key, a data file, a flag, a study
/// file) rather than by a defect in Tandem. Its message names the offending key, file or value and
/// says what is accepted; the CLI prints it without a stack trace and exits with code 2.
/// </summary>
public class InputException : Exception
{
    public InputException(string message) : base(message) { }
    public InputException(string message, Exception inner) : base(message, inner) { }
}
