# One ephemeral port serves connections to different destinations (the 4-tuple is what must be unique);
# connect() takes even ports first (bind() odd ones). A range of 4 ports gives 16 connections to 4 listeners.
# kernel: >= 4.6
show "tx ephemeral 4 40000 40003"
