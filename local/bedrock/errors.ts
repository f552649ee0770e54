/**
 * A Bedrock service error as the restJson1 wire carries it (docs/bedrock-api.md §1.1, §1.2).
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/CommonErrors.html
 */
export class BedrockError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** Extra modelled members copied onto the SDK's error object (e.g. ModelErrorException.originalStatusCode). */
    readonly members: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export const validation = (message: string) => new BedrockError('ValidationException', 400, message);
export const notFound = (message: string) => new BedrockError('ResourceNotFoundException', 404, message);
export const conflict = (message: string) => new BedrockError('ConflictException', 400, message);
export const quotaExceeded = (message: string) => new BedrockError('ServiceQuotaExceededException', 400, message);
export const throttled = () =>
  new BedrockError('ThrottlingException', 429, 'Too many requests, please wait before trying again.');
export const internal = () =>
  new BedrockError(
    'InternalServerException',
    500,
    'Encountered an unexpected error when processing the request, please try again',
  );
/** 503, as bedrock-runtime documents ServiceUnavailableException ("The service isn't currently available"). */
export const unavailable = () =>
  new BedrockError('ServiceUnavailableException', 503, "The service isn't currently available. Try again later.");
