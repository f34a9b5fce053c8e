# What bind() checks in a sockaddr_in: the length first, then the family; sin_zero not at all.
show "tx bindcheck"
