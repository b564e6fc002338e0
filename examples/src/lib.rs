//! Runnable examples of kubetwin, one per kind of user.
