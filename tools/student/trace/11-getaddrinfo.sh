# make trace LAB=11: the lines tools/student/trace.sh runs for 11-getaddrinfo, in its verbs (listed there).
say "Names from /etc/hosts only (localhost): nothing asks a DNS server."
lab_bg srv gai_sv localhost 0
lab gai_cl localhost "$srv_port" "hello by name"
lab gai_cl -n localhost "$srv_port"
say "-n (AI_NUMERICHOST): the name is not looked up at all; gai_strerror's error, not an errno."
stop srv
