"""Extension objects, created here and bound to an app in app.create_app()."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager

babel = Babel()
login_manager = LoginManager()
# request.remote_addr: behind PROXY_COUNT proxies the client's own address (ProxyFix in create_app)
limiter = Limiter(key_func=get_remote_address)
