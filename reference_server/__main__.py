from loopback_serving import exit_now
from reference_server.cli import main

exit_now(main())
