"""The HTTP API as infra/template.yaml defines it, for the local gateway
(scripts/lib/gateway.py): the routes (the HttpApi events of its functions),
the JWT authorizer with its parameters resolved from local values, the stage's
throttling. Needs PyYAML (moto brings it into .stack/venv)."""

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE = os.path.join(ROOT, "infra", "template.yaml")

# The local values of the template's parameters the authorizer refers to. With
# IDENTITY_PROVIDER=cognito, `scripts/dev up` created the pool and its client as the
# template defines them (USER_POOL_ID, USER_POOL_CLIENT_ID): they stand for the
# template's UserPool and UserPoolClient.
LOCAL_PARAMETERS = {
    "JwtIssuer": os.environ.get("JWT_ISSUER", "https://idp.account-deletion.localhost"),
    "JwtAudience": os.environ.get("JWT_AUDIENCE", "account-deletion-api"),
    "IdentityProvider": os.environ.get("IDENTITY_PROVIDER", "none") or "none",
}
LOCAL_RESOURCES = {
    "UserPool": os.environ.get("USER_POOL_ID", ""),
    "UserPoolClient": os.environ.get("USER_POOL_CLIENT_ID", ""),
}
LOCAL_PSEUDO = {"AWS::Region": os.environ.get("AWS_REGION", "us-east-1"), "AWS::Partition": "aws"}

class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short forms (!Ref X) as their long forms ({"Ref": X})."""


def _cfn_tag(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


class TemplateError(Exception):
    pass


class Api:
    """Routes, authorizer and throttling, as infra/template.yaml defines the HTTP API."""

    def __init__(self, template_path=TEMPLATE, parameters=None):
        with open(template_path, encoding="utf-8") as f:
            self.template = yaml.load(f, Loader=_CfnLoader)
        self.parameters = dict(LOCAL_PARAMETERS if parameters is None else parameters)
        resources = self.template.get("Resources") or {}
        apis = [n for n, r in resources.items() if r.get("Type") == "AWS::Serverless::HttpApi"]
        if len(apis) != 1:
            raise TemplateError(f"expected one AWS::Serverless::HttpApi, found {len(apis)}")
        self.api_name = apis[0]
        props = resources[self.api_name].get("Properties") or {}
        auth = props.get("Auth") or {}
        self.default_authorizer = auth.get("DefaultAuthorizer")
        self.authorizers = {}
        for name, spec in (auth.get("Authorizers") or {}).items():
            jwt = spec.get("JwtConfiguration") or {}
            audience = self.resolve(jwt.get("audience"))
            if isinstance(audience, str):
                audience = [a.strip() for a in audience.split(",") if a.strip()]
            source = spec.get("IdentitySource", "$request.header.Authorization")
            m = re.fullmatch(r"\$request\.header\.(.+)", source)
            if not m:
                raise TemplateError(f"authorizer {name}: identity source {source} is not a header")
            self.authorizers[name] = {
                "issuer": self.resolve(jwt.get("issuer")),
                "audience": list(audience or []),
                "header": m.group(1).lower(),
            }
        settings = props.get("DefaultRouteSettings") or {}
        self.burst = int(self.resolve(settings.get("ThrottlingBurstLimit", 5000)))
        self.rate = float(self.resolve(settings.get("ThrottlingRateLimit", 10000)))
        self.routes = self._routes(resources)

    def resolve(self, value):
        """A Ref to a parameter: its local value (checked against the parameter's
        AllowedPattern), else its Default; a Ref to the user pool or its client: the local
        ones; Fn::If on the template's conditions and Fn::Sub, as CloudFormation evaluates them."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict) and set(value) == {"Fn::If"}:
            condition, yes, no = value["Fn::If"]
            return self.resolve(yes if self.condition(condition) else no)
        if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
            text, names = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
            names = {k: self.resolve(v) for k, v in names.items()}
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(names.get(m[1]) or self.resolve({"Ref": m[1]})), text)
        if not (isinstance(value, dict) and set(value) == {"Ref"}):
            return value
        name = value["Ref"]
        if name in LOCAL_PSEUDO:
            return LOCAL_PSEUDO[name]
        if name in LOCAL_RESOURCES:
            return LOCAL_RESOURCES[name]
        spec = (self.template.get("Parameters") or {}).get(name)
        if spec is None:
            raise TemplateError(f"Ref {name} is not a parameter of the template")
        if name in self.parameters:
            v = self.parameters[name]
        elif "Default" in spec:
            v = spec["Default"]
        else:
            raise TemplateError(f"parameter {name} has no local value and no default")
        pattern = spec.get("AllowedPattern")
        if pattern and spec.get("Type") != "CommaDelimitedList" and not re.search(pattern, str(v)):
            raise TemplateError(f"the local value of {name} ({v}) does not match its AllowedPattern {pattern}")
        return v

    def condition(self, name):
        """One of the template's Conditions, on the local parameters."""
        def evaluate(c):
            if isinstance(c, dict) and ("Condition" in c or "Fn::Condition" in c):
                return self.condition(c.get("Condition") or c["Fn::Condition"])
            if isinstance(c, dict) and "Fn::Equals" in c:
                a, b = (self.resolve(v) for v in c["Fn::Equals"])
                return str(a) == str(b)
            if isinstance(c, dict) and "Fn::Not" in c:
                return not evaluate(c["Fn::Not"][0])
            if isinstance(c, dict) and "Fn::And" in c:
                return all(evaluate(v) for v in c["Fn::And"])
            if isinstance(c, dict) and "Fn::Or" in c:
                return any(evaluate(v) for v in c["Fn::Or"])
            raise TemplateError(f"condition {name}: {c} is not evaluated locally")
        conditions = self.template.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"no condition {name} in the template")
        return evaluate(conditions[name])

    def _routes(self, resources):
        routes = []
        for res in resources.values():
            if res.get("Type") != "AWS::Serverless::Function":
                continue
            binary = ((res.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
            for ev in ((res.get("Properties") or {}).get("Events") or {}).values():
                if ev.get("Type") != "HttpApi":
                    continue
                p = ev.get("Properties") or {}
                if p.get("ApiId", {"Ref": self.api_name}) != {"Ref": self.api_name}:
                    continue
                if not binary:
                    raise TemplateError("an HttpApi function names no Metadata.BuildProperties.Binary")
                method, path = p.get("Method", "ANY").upper(), p.get("Path", "/")
                authorizer = (p.get("Auth") or {}).get("Authorizer", self.default_authorizer)
                routes.append({
                    "route_key": f"{method} {path}",
                    "method": method,
                    "path": path,
                    "pattern": _path_pattern(path),
                    "function": binary,
                    "authorizer": None if authorizer in (None, "NONE") else authorizer,
                })
        return routes

    def match(self, method, path):
        """The route API Gateway picks: an exact path before a parameterised one."""
        hits = []
        for r in self.routes:
            m = r["pattern"].fullmatch(path)
            if m and r["method"] in (method, "ANY"):
                hits.append((r["path"].count("{"), r["method"] == "ANY", r, m.groupdict()))
        if not hits:
            return None, None
        hits.sort(key=lambda h: (h[0], h[1]))
        return hits[0][2], hits[0][3]


def _path_pattern(path):
    out = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("+}"):
            out += f"(?P<{part[1:-2]}>.+)"
        elif part.startswith("{"):
            out += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            out += re.escape(part)
    return re.compile(out)
