"""The one exception type for problems a user can fix."""


class UserInputError(Exception):
    """A problem the user can fix: a bad file, column, row, value, token or repo id.

    Scripts print it as one line on stderr and exit with code 2; anything else is a bug and keeps its traceback.
    """
