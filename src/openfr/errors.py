"""Exceptions that carry a user-facing reason.

The CLI maps them to exit codes (0 ok, 2 bad input, 1 failure) and prints only the one-line message, never a
traceback, so nothing biometric leaks into logs or terminals; the web doors map them to HTTP statuses
(web/error_answers.py). A `SafeguardError` is a safeguard saying no (a permission, a threshold floor, a missing
reason, purpose limitation, separation of duties): the service layer records each one in the audit trail.
"""


class OpenFRError(Exception):
    """Base class: `str(error)` is a complete, one-line reason for a person to read."""

    exit_code = 1


class SafeguardError(OpenFRError):
    """Mixed into the errors by which a safeguard refuses an act: the service layer records the refusal as
    an audit event (services/refusals.py), so the trail shows who tried what and was stopped, not only
    what was done."""


class BadInputError(OpenFRError):
    """The caller gave something unusable (not an image, too large, missing, no face ...)."""

    exit_code = 2


class ImageError(BadInputError):
    """An image file could not be read safely."""


class NoFaceError(BadInputError):
    """An operation that needs a face found none usable."""


class ConfigurationError(BadInputError):
    """Settings or a model-pack manifest are invalid."""


class ModelIntegrityError(OpenFRError):
    """A model file is missing or does not match its pinned SHA-256: refuse to run it."""


class AuditKeyError(ConfigurationError):
    """The audit key is missing, or is not the key that sealed this store's trail: openfr refuses to start
    (a new key would make every earlier seal fail, so real tampering could no longer be told apart)."""


class LicenceRefusedError(ConfigurationError):
    """An operational installation was asked to use a research-only model pack."""


class EmbeddingSpaceError(BadInputError):
    """Two embeddings from different model packs were compared: their scores mean nothing."""


class NotFoundError(BadInputError):
    """The named gallery, subject, deployment, alert or account does not exist (HTTP 404)."""


class ConflictError(BadInputError):
    """The thing exists but is not in a state that allows this step (HTTP 409)."""


class EnrolmentRejectedError(BadInputError):
    """The one image offered for enrolment was not enrolled (no face, several, below the quality gate, not a
    readable image): nothing was kept, not even the subject or the gallery (HTTP 422)."""


class UploadTooLargeError(BadInputError):
    """An upload is over `web.upload_max_mb` (HTTP 413)."""


class NotSignedInError(OpenFRError):
    """The action needs an authenticated account and none was given (HTTP 401; the CLI says how to sign in)."""

    exit_code = 2


class PermissionDeniedError(SafeguardError):
    """The acting account's role does not hold the permission, or a separation-of-duties rule refuses this
    account (HTTP 403). Nothing was changed."""

    exit_code = 2


class PasswordChangeRequiredError(PermissionDeniedError):
    """The account's password was set by an administrator (a new account, a reset): its owner must choose
    their own before doing anything else (HTTP 403)."""

    def __init__(self) -> None:
        super().__init__(
            "change your password first: it was set by an administrator (console: Account; "
            "command line: openfr passwd; API: POST /api/me/password); nothing was changed"
        )


class SafeguardMissingError(BadInputError, SafeguardError):
    """A safeguard the act needs is missing or out of bounds: a reason, grounds, a deployment plan's
    safeguards, a threshold below its floor, a window too long (HTTP 400)."""


class PurposeLimitationError(ConflictError, SafeguardError):
    """A gallery was asked for a use it is not approved for (HTTP 409)."""


class UncalibratedPackError(ConflictError, SafeguardError):
    """The model pack has no identification calibration fit for its weights, so no live threshold can be set
    for a watchlist's size: live deployments are refused until one is made (HTTP 409)."""
